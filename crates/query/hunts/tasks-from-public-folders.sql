-- title: Scheduled tasks whose actions run from user-writable folders
-- attack: T1053.005, T1036
-- description: Task definitions (4698/4702) whose XML names Temp, AppData, ProgramData or
--   Users\Public: where droppers put binaries that a SYSTEM task then runs.
SELECT "Timestamp", "DeviceName", "AccountName", "AdditionalFields"
FROM "DeviceEvents"
WHERE "ActionType" IN ('ScheduledTaskCreated', 'ScheduledTaskUpdated')
  AND (lower("AdditionalFields") LIKE '%\\\\temp\\\\%'
    OR lower("AdditionalFields") LIKE '%\\\\appdata\\\\%'
    OR lower("AdditionalFields") LIKE '%\\\\programdata\\\\%'
    OR lower("AdditionalFields") LIKE '%\\\\users\\\\public\\\\%')
ORDER BY "Timestamp"
