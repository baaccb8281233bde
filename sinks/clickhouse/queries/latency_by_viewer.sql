SELECT
    viewer,
{part:carrier_latency}
GROUP BY viewer
ORDER BY viewer
