-- Asks the operator to stop the in-progress deployment this resource tracks (AppConfig rolls it
-- back): sets appconfig.operators.dev/stop-requested-at to the time now, in UTC.
-- Argo CD's sandbox has no global os: require("os") gives its time and date functions.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["appconfig.operators.dev/stop-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
