-- Total earnings (PAYE + self-assessment) per person (AE_ID) and tax year.
-- Person: AE_ID via learner_ae_id_to_edukey_lookup; an EDUKEY linked to several AE_IDs belongs to the
-- smallest (MIN(AE_ID) ... GROUP BY EDUKEY), as in leokit.linkage.resolve_edukeys and the pandas functions.
-- Same definition as leokit.derive.total_earnings(annual_paye_earnings(...), sa_earnings(...)):
--   SA from 2013/14 (TaxYear >= 201314) only; SA losses floored at 0 in the total; a person-year with
--   only missing SA values has no SA row.
WITH paye AS (
    SELECT m.AE_ID, e.TaxYear,
           SUM(CASE WHEN e.Earnings < 0 THEN 0 ELSE e.Earnings END) AS paye_earnings
    FROM leo_i2.leo_earnings AS e
    INNER JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM leo_i2.learner_ae_id_to_edukey_lookup GROUP BY EDUKEY) AS m
        ON m.EDUKEY = e.Edukey
    GROUP BY m.AE_ID, e.TaxYear
),
sa AS (
    SELECT m.AE_ID, s.TaxYear, SUM(s.EARNINGS_SELF_EMPLOYMENT) AS sa_earnings
    FROM leo_i2.leo_self_assessment AS s
    INNER JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM leo_i2.learner_ae_id_to_edukey_lookup GROUP BY EDUKEY) AS m
        ON m.EDUKEY = s.Edukey
    WHERE s.TaxYear >= 201314
    GROUP BY m.AE_ID, s.TaxYear
    HAVING COUNT(s.EARNINGS_SELF_EMPLOYMENT) > 0
)
SELECT
    COALESCE(p.AE_ID, s.AE_ID) AS AE_ID,
    COALESCE(p.TaxYear, s.TaxYear) AS TaxYear,
    p.paye_earnings,
    s.sa_earnings,
    COALESCE(p.paye_earnings, 0)
      + CASE WHEN s.sa_earnings IS NULL OR s.sa_earnings < 0 THEN 0 ELSE s.sa_earnings END AS total_earnings,
    CASE WHEN p.AE_ID IS NULL THEN 0 ELSE 1 END AS has_paye,
    CASE WHEN s.AE_ID IS NULL THEN 0 ELSE 1 END AS has_sa
FROM paye AS p
FULL OUTER JOIN sa AS s
    ON s.AE_ID = p.AE_ID AND s.TaxYear = p.TaxYear
