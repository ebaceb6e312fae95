-- Asks the operator to start the declared version again after the current generation was rolled
-- back or reverted: sets appconfig.operators.dev/retry-requested-at to the time now, in UTC.
-- Argo CD's sandbox has no global os: require("os") gives its time and date functions.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["appconfig.operators.dev/retry-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
