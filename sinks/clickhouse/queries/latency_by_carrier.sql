SELECT
    carrier,
{part:carrier_latency}
GROUP BY carrier
ORDER BY carrier
