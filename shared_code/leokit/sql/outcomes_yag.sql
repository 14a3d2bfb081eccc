-- Outcomes 1, 3, 5 and 10 years after graduation (YAG) per graduate.
-- Same definition as leokit.derive.outcomes_yag: N YAG = the tax year starting in April of
-- graduation_year + N (graduation_year = end year of the academic year of graduation);
-- 2018/19 graduates (graduation_year 2019) -> 1 YAG = 202021.
-- Inputs (work tables, create them first - see book/reference/sql-dialects.md):
--   work.graduates            (AE_ID, graduation_year)
--   work.paye_earnings        (AE_ID, TaxYear, paye_earnings)        <- paye_earnings.sql
--   work.sustained_employment (AE_ID, TaxYear, sustained_employment) <- sustained_employment.sql
-- Person-years without a record keep NULL paye_earnings (sustained_employment is 0 for linked graduates:
-- no spell); observed = 0 beyond the last tax year (202021).
-- linked = 1 if the graduate owns an EDUKEY (an EDUKEY linked to several AE_IDs belongs to the smallest);
-- a graduate who is not linked has unknown outcomes (NULL), never zero: has_record is NULL for them.
WITH yags AS (
    SELECT yag FROM (VALUES (1), (3), (5), (10)) AS v (yag)
),
owners AS (
    SELECT DISTINCT AE_ID
    FROM (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM leo_i2.learner_ae_id_to_edukey_lookup
          WHERE EDUKEY IS NOT NULL AND AE_ID IS NOT NULL GROUP BY EDUKEY) AS k
),
grid AS (
    SELECT g.AE_ID, g.graduation_year, y.yag,
           (g.graduation_year + y.yag) * 100 + (g.graduation_year + y.yag + 1) % 100 AS TaxYear
    FROM work.graduates AS g
    CROSS JOIN yags AS y
)
SELECT
    gr.AE_ID,
    gr.graduation_year,
    gr.yag,
    gr.TaxYear,
    CASE WHEN gr.TaxYear <= 202021 THEN 1 ELSE 0 END AS observed,
    CASE WHEN o.AE_ID IS NULL THEN 0 ELSE 1 END AS linked,
    CASE WHEN o.AE_ID IS NULL THEN NULL
         WHEN p.AE_ID IS NOT NULL OR s.AE_ID IS NOT NULL THEN 1 ELSE 0 END AS has_record,
    CASE WHEN o.AE_ID IS NULL THEN 'not linkable'
         WHEN p.AE_ID IS NOT NULL OR s.AE_ID IS NOT NULL THEN 'linked, record'
         ELSE 'linked, no record' END AS linkage_status,
    p.paye_earnings,
    -- no employment spell = not in sustained employment: 0 for a linked graduate in an observed tax year the
    -- employment table covers, NULL for the unlinkable (as leokit.derive.outcomes_yag, ZERO_WHEN_NO_RECORD)
    CASE WHEN s.AE_ID IS NOT NULL THEN s.sustained_employment
         WHEN o.AE_ID IS NOT NULL AND gr.TaxYear <= 202021 AND gr.TaxYear BETWEEN sr.lo AND sr.hi THEN 0
         ELSE NULL END AS sustained_employment
FROM grid AS gr
CROSS JOIN (SELECT MIN(TaxYear) AS lo, MAX(TaxYear) AS hi FROM work.sustained_employment) AS sr
LEFT JOIN owners AS o
    ON o.AE_ID = gr.AE_ID
LEFT JOIN work.paye_earnings AS p
    ON p.AE_ID = gr.AE_ID AND p.TaxYear = gr.TaxYear
LEFT JOIN work.sustained_employment AS s
    ON s.AE_ID = gr.AE_ID AND s.TaxYear = gr.TaxYear
