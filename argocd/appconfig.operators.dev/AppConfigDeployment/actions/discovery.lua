-- Argo CD resource actions for an AppConfigDeployment: stop, revert and retry. Each sets a request
-- annotation that the operator handles once. Every action is listed; the ones that cannot apply to
-- the status the operator reports now are disabled. See the README's "Argo CD" section.
--
-- Written with base functions only (no string or math library, no goto): Argo CD runs actions and
-- their discovery in its sandbox, built-in or not, and on Lua 5.1.

local actions = {}
local status = obj.status or {}
local state = status.state
local suspended = obj.spec ~= nil and obj.spec.suspend == true

-- The tracked deployment is in progress (a rollback in progress cannot be stopped).
local inProgress = state == "VALIDATING" or state == "DEPLOYING" or state == "BAKING"

-- The tracked deployment completed and AppConfig serves the declared version.
local served = state == "COMPLETE" and status.servedVersion ~= nil and status.servedVersion == status.desiredVersion

-- The current generation was rolled back or reverted.
local failed = false
if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Stalled" and condition.status == "True"
        and (condition.reason == "RolledBack" or condition.reason == "Reverted")
        and condition.observedGeneration ~= nil and condition.observedGeneration == obj.metadata.generation then
      failed = true
    end
  end
end

actions["stop"] = {
  ["disabled"] = suspended or not inProgress,
  ["iconClass"] = "fa fa-fw fa-stop",
  ["displayName"] = "Stop Deployment"
}
actions["revert"] = {
  ["disabled"] = suspended or not served,
  ["iconClass"] = "fa fa-fw fa-rotate-left",
  ["displayName"] = "Revert Deployment"
}
actions["retry"] = {
  ["disabled"] = suspended or not failed,
  ["iconClass"] = "fa fa-fw fa-rotate-right",
  ["displayName"] = "Retry Deployment"
}
return actions
