-- Annual PAYE earnings per person (AE_ID) and tax year.
-- Person: AE_ID via learner_ae_id_to_edukey_lookup; an EDUKEY linked to several AE_IDs belongs to the
-- smallest (MIN(AE_ID) ... GROUP BY EDUKEY), as in leokit.linkage.resolve_edukeys and the pandas functions.
-- Same definition as leokit.derive.annual_paye_earnings (with edukey_map = learner_ae_id_to_edukey_lookup).
-- Portable: runs unchanged on DuckDB and SQL Server (T-SQL) once the schema prefixes are rendered
-- (leokit.derive.sql.render: leo_i2. -> LEO_i2."<project>". on the SRS).
SELECT
    m.AE_ID,
    e.TaxYear,
    SUM(CASE WHEN e.Earnings < 0 THEN 0 ELSE e.Earnings END) AS paye_earnings,
    COUNT(DISTINCT e.Edukey) AS n_edukeys_paye
FROM leo_i2.leo_earnings AS e
INNER JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM leo_i2.learner_ae_id_to_edukey_lookup GROUP BY EDUKEY) AS m
    ON m.EDUKEY = e.Edukey
GROUP BY m.AE_ID, e.TaxYear
