-- Sustained employment per person (AE_ID) and tax year: employment in at least 5 of the 6 months
-- October-March of the tax year, the rule of DfE's destination measures [DEST]; its use for graduate
-- outcomes, and that a month counts if a PAYE spell covers at least one day of it, are INFERRED.
-- Person: AE_ID via learner_ae_id_to_edukey_lookup; an EDUKEY linked to several AE_IDs belongs to the
-- smallest (MIN(AE_ID) ... GROUP BY EDUKEY), as in leokit.linkage.resolve_edukeys and the pandas functions.
-- Same definition as leokit.derive.sustained_employment(leo_employment, edukey_map) (PAYE only, sa=None).
-- Rows: every person-year with a spell touching the tax year (6 April - 5 April).
-- A missing EndDate is an open spell, closed at 5 April 2021; a missing StartDate drops the spell.
-- Portable: CAST('yyyy-mm-dd' AS DATE) of a CONCAT works on DuckDB and SQL Server 2012+; no date functions.
-- The tax-year list (start years 1997..2020) is inline; extend it when new years arrive.
WITH spells AS (
    SELECT DISTINCT m.AE_ID, e.StartDate,
           COALESCE(e.EndDate, CAST('2021-04-05' AS DATE)) AS EndDate
    FROM leo_i2.leo_employment AS e
    INNER JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM leo_i2.learner_ae_id_to_edukey_lookup GROUP BY EDUKEY) AS m
        ON m.EDUKEY = e.EduKey
    WHERE e.StartDate IS NOT NULL
      AND e.StartDate <= COALESCE(e.EndDate, CAST('2021-04-05' AS DATE))
),
tax_years AS (
    SELECT y,
           CAST(CONCAT(y, '-04-06') AS DATE) AS ty_start,
           CAST(CONCAT(y + 1, '-04-05') AS DATE) AS ty_end
    FROM (VALUES (1997),(1998),(1999),(2000),(2001),(2002),(2003),(2004),(2005),(2006),(2007),(2008),(2009),(2010),(2011),(2012),(2013),(2014),(2015),(2016),(2017),(2018),(2019),(2020)) AS t (y)
),
months AS (
    -- month start (as a suffix and a year shift) and the start of the following month
    SELECT * FROM (VALUES
        (10, '-10-01', 0, '-11-01', 0),
        (11, '-11-01', 0, '-12-01', 0),
        (12, '-12-01', 0, '-01-01', 1),
        (1,  '-01-01', 1, '-02-01', 1),
        (2,  '-02-01', 1, '-03-01', 1),
        (3,  '-03-01', 1, '-04-01', 1)
    ) AS mm (mon, m_start, m_shift, n_start, n_shift)
),
person_years AS (
    SELECT DISTINCT s.AE_ID, t.y
    FROM spells AS s
    INNER JOIN tax_years AS t
        ON s.StartDate <= t.ty_end AND s.EndDate >= t.ty_start
),
covered AS (
    SELECT DISTINCT s.AE_ID, t.y, mo.mon
    FROM spells AS s
    INNER JOIN tax_years AS t
        ON s.StartDate <= t.ty_end AND s.EndDate >= t.ty_start
    INNER JOIN months AS mo
        ON s.StartDate < CAST(CONCAT(t.y + mo.n_shift, mo.n_start) AS DATE)
       AND s.EndDate >= CAST(CONCAT(t.y + mo.m_shift, mo.m_start) AS DATE)
)
SELECT
    py.AE_ID,
    py.y * 100 + (py.y + 1) % 100 AS TaxYear,
    COUNT(c.mon) AS months_employed_oct_mar,
    CASE WHEN COUNT(c.mon) >= 5 THEN 1 ELSE 0 END AS sustained_employment
FROM person_years AS py
LEFT JOIN covered AS c
    ON c.AE_ID = py.AE_ID AND c.y = py.y
GROUP BY py.AE_ID, py.y
