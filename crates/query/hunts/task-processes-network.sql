-- title: Processes started by the task scheduler that talk to the network
-- attack: T1053.005, T1071
-- description: Children of the Schedule service (svchost -s Schedule, taskeng, taskhostw) joined
--   with their network connections.
SELECT p."DeviceName", p."FileName", p."ProcessCommandLine", n."RemoteIP", n."RemotePort", n."RemoteUrl", count(*) AS connections
FROM "DeviceProcessEvents" p
JOIN "DeviceNetworkEvents" n
  ON p."DeviceName" = n."DeviceName" AND p."ProcessUniqueId" = n."InitiatingProcessUniqueId"
WHERE lower(p."InitiatingProcessCommandLine") LIKE '%-s schedule%'
   OR lower(p."InitiatingProcessFileName") IN ('taskeng.exe', 'taskhostw.exe')
GROUP BY p."DeviceName", p."FileName", p."ProcessCommandLine", n."RemoteIP", n."RemotePort", n."RemoteUrl"
ORDER BY connections DESC
