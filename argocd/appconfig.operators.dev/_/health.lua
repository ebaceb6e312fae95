-- Argo CD health for every kind of the appconfig.operators.dev group (AppConfigDeployment,
-- AppConfigSync). Their status is kstatus-compatible: status.observedGeneration, a Ready summary
-- condition, and the abnormal-true Reconciling and Stalled conditions, each with its own
-- observedGeneration. See the README's "Argo CD" section.
--
-- Written with base and table functions only (no string or math library, no goto), so it runs
-- unchanged in Argo CD's sandbox (argocd-cm overrides), with open libraries (built-ins) and on Lua 5.1.

local hs = {}
local generation = obj.metadata.generation
local status = obj.status

local function current(condition)
  return generation == nil or condition.observedGeneration == nil or condition.observedGeneration >= generation
end

local function describe(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local ready, reconciling, stalled
if status ~= nil and status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if current(condition) then
      if condition.type == "Ready" then
        ready = condition
      elseif condition.type == "Reconciling" and condition.status == "True" then
        reconciling = condition
      elseif condition.type == "Stalled" and condition.status == "True" then
        stalled = condition
      end
    end
  end
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  if ready ~= nil then
    hs.message = describe(ready, "Suspended")
  else
    hs.message = "spec.suspend is true: the operator observes and reports only"
  end
  return hs
end

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a status"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

-- Stalled: rolled back, reverted, NotFound, AccessDenied, InvalidRequest, InvalidContent, and
-- the failures of a resource acting as a ServiceAccount (ServiceAccountNotFound,
-- RoleAnnotationMissing, RoleAnnotationInvalid, ServiceAccountForbidden, AssumeRoleRefused):
-- Degraded, with the message.
if stalled ~= nil then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

if reconciling ~= nil then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
elseif ready.status == "False" then
  -- Ready=False with neither Reconciling nor Stalled: the operator gave no reason to expect progress.
  hs.status = "Degraded"
  hs.message = describe(ready, "Not ready")
else
  hs.status = "Progressing"
  hs.message = describe(ready, "Readiness unknown")
end
return hs
