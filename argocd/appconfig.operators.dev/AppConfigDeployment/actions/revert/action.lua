-- Asks the operator to revert the served deployment this resource started or adopted (AppConfig
-- serves the previous version again): sets appconfig.operators.dev/revert-requested-at to the time
-- now, in UTC.
-- Argo CD's sandbox has no global os: require("os") gives its time and date functions.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["appconfig.operators.dev/revert-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
