"""SQL for the SRS (SQL Server): table names and the translation of the kit's DuckDB SQL to T-SQL.

In the SRS the same tables are ``<Database>."<project number>".<table>``, e.g.
``LEO_i2."<project>".leo_earnings`` or ``npd_i2."<project>".spring_census_2011`` [FFT]. The kit's
two-part names (:mod:`leokit.db`) drop the per-project schema. :func:`srs_name` gives the SQL Server name of a
table; :func:`to_srs_sql` translates a DuckDB query written here into T-SQL for the SRS (with
sqlglot): it renames the tables, rewrites DuckDB-only constructs that have a T-SQL equivalent
(``LIMIT`` -> ``TOP``, ``::`` casts, ``NULLS LAST``, ``QUALIFY``, ``median``/``quantile_cont``
-> ``PERCENTILE_CONT ... OVER``, ``GROUP BY ALL`` or by position) and refuses, naming the
construct, what it cannot translate (lists, regular expressions, ``ASOF`` joins, functions
SQL Server lacks ...). Set the project once in the environment variable ``LEOKIT_SRS_PROJECT``
(read by :func:`srs_project`) or pass ``project=``. ``public`` tables (area lookups) are not in
the SRS databases: load the published files into your project space and pass ``public=`` to
say where. ``truth`` tables exist only in the synthetic data.

Names go into SQL text, so they are checked: a project id must be a project number (letters,
digits, ``_``, ``-``, spaces; at most 128 characters) and is always quoted; a table name or a
``public=`` part that is not a plain name is quoted (``"``, doubled inside) and one SQL Server cannot
have (empty, over 128 characters, control characters) is refused with
:class:`~leokit.errors.SRSTranslationError` - so no name can end the identifier and start a statement.
Every name here is also importable from :mod:`leokit.db`.
"""

from __future__ import annotations

import os
import re

from leokit import schema as _schema
from leokit.errors import SRSTranslationError
from leokit.schema import SRS_DATABASES

__all__ = ["srs_name", "to_srs_sql", "srs_project", "srs_dialect", "tsql_quote", "PROJECT_ENV_VAR",
           "PROJECT_PLACEHOLDER", "TSQL_FUNCTIONS"]

#: Environment variable holding the SRS project number (the per-project SQL Server schema).
PROJECT_ENV_VAR = "LEOKIT_SRS_PROJECT"


# ----------------------------------------------------------------------------------------------
# SRS names
# ----------------------------------------------------------------------------------------------
#: What :func:`srs_project` gives when no project is set (a visible placeholder, never run as is).
PROJECT_PLACEHOLDER = "<project number>"
#: A project id is the SRS project number: letters, digits, ``_``, ``-`` or spaces, at most 128 characters
#: (SQL Server's longest name); anything else (quotes, ``;``, ``]``, line breaks ...) is refused.
_PROJECT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\- ]{0,127}")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def tsql_quote(name: str) -> str:
    """``name`` as a T-SQL delimited identifier: ``"name"``, with every ``"`` in it doubled.

    The one quoting function of this module (the SRS names are written with double quotes [FFT];
    SQL Server reads them so with ``QUOTED_IDENTIFIER ON``, the default of its ODBC driver and SSMS).
    """
    return '"' + str(name).replace('"', '""') + '"'


def _check_project(project: str | int, source: str = "") -> str:
    if isinstance(project, int) and not isinstance(project, bool) and project >= 0:
        project = str(project)  # a project number given as a number
    if not isinstance(project, str):
        raise SRSTranslationError("project", f"SRS project {project!r}{source}: expected the project number as text, "
                                             f"e.g. '12345', got {type(project).__name__}")
    if project == PROJECT_PLACEHOLDER or _PROJECT_RE.fullmatch(project):
        return project
    raise SRSTranslationError(
        "project", f"SRS project {project!r}{source} cannot be an SRS project schema: expected the project number "
                   "(letters, digits, '_', '-' or spaces, at most 128 characters, e.g. '12345'); quotes, ';', "
                   "brackets and line breaks are refused")


def _tsql_name(name: str, what: str) -> str:
    """One part of a SQL Server name: as written when it is a plain name, else quoted; refused if SQL Server
    cannot name it (empty, longer than 128 characters, control characters)."""
    if not isinstance(name, str) or not name or len(name) > 128 or _CONTROL.search(name):
        raise SRSTranslationError(what, f"{what} {name!r}: SQL Server cannot name it (expected 1 to 128 characters "
                                        "without control characters or line breaks)")
    return name if _PLAIN_NAME.fullmatch(name) else tsql_quote(name)


def srs_project(project: str | int | None = None) -> str:
    """The SRS project number: ``project`` if given, else ``$LEOKIT_SRS_PROJECT``, else a placeholder.

    Raises :class:`~leokit.errors.SRSTranslationError` (a ``ValueError``) for a project id that is not a
    project number (letters, digits, ``_``, ``-``, spaces; at most 128 characters): it goes into SQL text.
    """
    if project is not None and project != "":
        return _check_project(project)
    env = os.environ.get(PROJECT_ENV_VAR, "").strip()
    if env:
        return _check_project(env, f" (from {PROJECT_ENV_VAR})")
    return PROJECT_PLACEHOLDER


def srs_name(table: str, project: str | None = None, *, database: str | None = None) -> str:
    """SQL Server name of a kit table in the SRS: ``LEO_i2."<project>".leo_earnings``.

    ``database`` defaults to the schema declared in :mod:`leokit.schema`. Raises ValueError for
    tables that are not in the SRS databases (public lookups, truth tables), and
    :class:`~leokit.errors.SRSTranslationError` (a ``ValueError``) for a project id that is not a
    project number (see :func:`srs_project`) or a table name SQL Server cannot have. The project is
    always quoted (``"..."``, quotes doubled); a table name that is not a plain name (letters,
    digits, ``_``) is quoted too, so no name can end the identifier early.
    """
    if not isinstance(table, str):
        raise SRSTranslationError("table", f"srs_name: the table name must be text, got {type(table).__name__}")
    part = _tsql_name(table, "table")
    db = database or _schema.get_schema(table).database
    if db not in SRS_DATABASES:
        raise ValueError(f"table {table!r} is in {db!r}, not an SRS database: load it into your project space")
    return f"{SRS_DATABASES[db]}.{tsql_quote(srs_project(project))}.{part}"


# ----------------------------------------------------------------------------------------------
# DuckDB SQL -> SQL Server (T-SQL)
# ----------------------------------------------------------------------------------------------
#: Built-in SQL Server functions :func:`to_srs_sql` may emit (SQL Server 2017 and later; the
#: 2022 additions GREATEST, LEAST, DATETRUNC, GENERATE_SERIES, IS [NOT] DISTINCT FROM are left
#: out because the SRS's SQL Server version is not published - an open question).
TSQL_FUNCTIONS = frozenset("""
AVG CHECKSUM_AGG COUNT COUNT_BIG GROUPING GROUPING_ID MAX MIN STDEV STDEVP STRING_AGG SUM VAR VARP
CUME_DIST FIRST_VALUE LAG LAST_VALUE LEAD PERCENTILE_CONT PERCENTILE_DISC PERCENT_RANK
RANK DENSE_RANK NTILE ROW_NUMBER
CAST CONVERT PARSE TRY_CAST TRY_CONVERT TRY_PARSE
DATEADD DATEDIFF DATEDIFF_BIG DATEFROMPARTS DATETIME2FROMPARTS DATENAME DATEPART DAY EOMONTH GETDATE
GETUTCDATE ISDATE MONTH SYSDATETIME YEAR
CHOOSE IIF COALESCE NULLIF ISNULL ISNUMERIC
ABS ACOS ASIN ATAN ATN2 CEILING COS COT DEGREES EXP FLOOR LOG LOG10 PI POWER RADIANS RAND ROUND SIGN
SIN SQRT SQUARE TAN
ASCII CHAR CHARINDEX CONCAT CONCAT_WS DIFFERENCE FORMAT LEFT LEN LOWER LTRIM NCHAR PATINDEX QUOTENAME
REPLACE REPLICATE REVERSE RIGHT RTRIM SOUNDEX SPACE STR STRING_ESCAPE STUFF SUBSTRING TRANSLATE TRIM
UNICODE UPPER HASHBYTES NEWID EXISTS
""".split())

_TSQL_TYPES = frozenset("""
BIGINT INT INTEGER SMALLINT TINYINT BIT DECIMAL NUMERIC FLOAT REAL MONEY SMALLMONEY CHAR VARCHAR NCHAR
NVARCHAR DATE DATETIME DATETIME2 SMALLDATETIME TIME DATETIMEOFFSET BINARY VARBINARY UNIQUEIDENTIFIER
""".split())

_tsql_dialect = None


def srs_dialect():
    """sqlglot's T-SQL dialect as the kit writes it (quoted identifiers as "name", as the SRS names are written):
    :func:`to_srs_sql` writes with it, and ``sqlglot.transpile(tsql, read=srs_dialect(), write="duckdb")`` reads
    its output back (the book's SQL page and the tests run translated queries in DuckDB that way)."""
    global _tsql_dialect
    if _tsql_dialect is None:
        from sqlglot.dialects.tsql import TSQL

        class LeokitSRS(TSQL):
            class Tokenizer(TSQL.Tokenizer):
                IDENTIFIERS = ['"', ("[", "]")]

        _tsql_dialect = LeokitSRS
    return _tsql_dialect


def _refuse(construct: str, why: str, hint: str = "") -> SRSTranslationError:
    msg = f"to_srs_sql: cannot translate {construct} to SQL Server: {why}"
    if hint:
        msg += f". {hint[0].upper()}{hint[1:]}"
    return SRSTranslationError(construct, msg)


def to_srs_sql(sql: str, project: str | None = None, *, public: str | None = None,
               truth: str | None = None, pretty: bool = True) -> str:
    """Translate kit SQL (DuckDB, ``leo_i2.leo_earnings``) into SQL Server SQL for the SRS.

    The tables are renamed (``leo_i2.leo_earnings`` -> ``LEO_i2."<project>".leo_earnings``, see
    :func:`srs_name`; ``public=`` / ``truth=`` give the prefix where you loaded those tables, e.g.
    ``'MyProject.dbo'``; without them they are left as written) and the query is rewritten in
    T-SQL with sqlglot: ``LIMIT`` -> ``TOP`` / ``OFFSET ... FETCH``, ``x::INT`` -> ``CAST``,
    ``NULLS LAST`` kept by an extra sort key, ``QUALIFY`` and ``DISTINCT ON`` by a subquery, ``/``
    kept a true division, ``log(x)`` (base 10 in DuckDB) -> ``LOG(x, 10)``, ``x + INTERVAL 3 DAY``
    -> ``DATEADD``, ``GROUP BY ALL`` / ``GROUP BY 1`` / ``GROUP BY alias`` -> the expressions.

    Medians and quantiles: T-SQL has no aggregate median; ``PERCENTILE_CONT`` (and
    ``PERCENTILE_DISC``) exist only as window functions. ``median(x)`` and ``quantile_cont(x, q)``
    become ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY <the GROUP BY
    keys>)`` with ``SELECT DISTINCT`` in place of ``GROUP BY``; next to other aggregates (``count``,
    ``avg`` ...) the window is computed in a subquery and taken with ``MAX`` in the grouped outer
    query. ``quantile``/``quantile_disc`` become ``PERCENTILE_DISC``.

    Anything without a faithful T-SQL equivalent raises :class:`SRSTranslationError` naming the
    construct: lists and structs, regular expressions, ``ILIKE``, ``ASOF``/``POSITIONAL``/
    ``NATURAL`` joins and ``JOIN ... USING``, ``SELECT * EXCLUDE``, ``PIVOT``, ``SAMPLE``,
    ``isnan``, ``mode``, a list of quantiles, ``greatest``/``least`` (SQL Server 2022 only) and any
    function SQL Server does not have (:data:`TSQL_FUNCTIONS`). Several statements (``;``) are
    translated one by one. The result is meant to be read and run: check it.
    """
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

    dialect = srs_dialect()
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as e:
        raise SRSTranslationError("syntax", f"to_srs_sql: the query is not valid DuckDB SQL: {e}") from None
    project = srs_project(project)
    out: list[str] = []
    for st in statements:
        st = _translate(st)
        _rename_tables(st, project, public, truth)
        pre = _drop_before_replace(st, dialect)
        try:
            text = st.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as e:
            raise _refuse(str(e).split(" translation")[0].strip("'"), str(e),
                          "For an ORDER BY inside OVER (...), write NULLS FIRST (ascending) or NULLS LAST "
                          "(descending), SQL Server's own order, if NULLs cannot occur or their place does not "
                          "matter") from None
        out.extend(pre + [text])
    if len(out) == 1:
        return out[0]
    return ";\n\n".join(out) + ";"


def _rename_tables(tree, project: str, public: str | None, truth: str | None) -> None:
    from sqlglot import exp

    prefixes = {}
    for s, real in SRS_DATABASES.items():
        prefixes[s] = (exp.to_identifier(real), exp.to_identifier(project, quoted=True))
    for s, given in (("public", public), ("truth", truth)):
        if given:
            parts = given.split(".")
            for part in parts:  # each part a name SQL Server can have; sqlglot quotes (and escapes) odd ones
                _tsql_name(part, f"{s}= prefix part")
            if len(parts) > 2:
                raise SRSTranslationError(f"{s}=", f"to_srs_sql: {s}={given!r}: expected 'Database.schema' or "
                                                   "'schema' (the place where you loaded those tables)")
            if len(parts) == 1:
                prefixes[s] = (None, exp.to_identifier(parts[0]))
            else:
                prefixes[s] = (exp.to_identifier(parts[0]), exp.to_identifier(".".join(parts[1:])))
    for node in list(tree.find_all(exp.Table, exp.Column)):
        db = node.args.get("db")
        if db is None or node.args.get("catalog") is not None:
            continue
        key = db.name.lower()
        if key in prefixes:
            catalog, schema = prefixes[key]
            node.set("catalog", catalog.copy() if catalog is not None else None)
            node.set("db", schema.copy())


def _drop_before_replace(st, dialect) -> list[str]:
    from sqlglot import exp

    if isinstance(st, exp.Create) and st.args.get("replace") and str(st.args.get("kind", "")).upper() == "TABLE":
        st.set("replace", False)
        target = st.this.this if isinstance(st.this, exp.Schema) else st.this
        return [f"DROP TABLE IF EXISTS {target.sql(dialect=dialect)}"]
    return []


def _translate(tree):
    """Check and rewrite one parsed DuckDB statement (in place where possible); returns the tree."""
    from sqlglot import exp

    if not isinstance(tree, (exp.Query, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop)) \
            or isinstance(tree, exp.Command):
        raise _refuse(repr(tree.sql(dialect="duckdb")[:60]), "it is not a SQL statement the translator understands "
                      "(SELECT, WITH, CREATE, INSERT, UPDATE, DELETE, DROP)")
    _check_constructs(tree)
    for select in reversed(list(tree.find_all(exp.Select))):
        _resolve_group_by(select)
    for select in reversed(list(tree.find_all(exp.Select))):
        _rewrite_percentiles(select)
    _rewrite_functions(tree)
    _check_functions(tree)
    return tree


def _check_constructs(tree) -> None:
    from sqlglot import exp

    plain = {
        exp.RegexpLike: ("regular expressions (regexp_matches, ~)", "use LIKE patterns ('L1%') or CHARINDEX"),
        exp.RegexpILike: ("regular expressions", "use LIKE patterns"),
        exp.RegexpExtract: ("regexp_extract", "use SUBSTRING with CHARINDEX/PATINDEX"),
        exp.RegexpReplace: ("regexp_replace", "use REPLACE"),
        exp.RegexpSplit: ("regexp_split_to_array", "lists do not exist in SQL Server"),
        exp.SimilarTo: ("SIMILAR TO", "use LIKE patterns"),
        exp.ILike: ("ILIKE", "write LOWER(x) LIKE 'pattern' (the usual SRS collation is case-insensitive anyway)"),
        exp.NullSafeEQ: ("IS NOT DISTINCT FROM", "only SQL Server 2022 has it: write (a = b OR (a IS NULL AND b IS NULL))"),
        exp.NullSafeNEQ: ("IS DISTINCT FROM", "only SQL Server 2022 has it: spell out the NULL cases"),
        exp.Greatest: ("greatest()", "only SQL Server 2022 has GREATEST: write CASE WHEN a >= b THEN a ELSE b END"),
        exp.Least: ("least()", "only SQL Server 2022 has LEAST: write CASE WHEN a <= b THEN a ELSE b END"),
        exp.IsNan: ("isnan()", "SQL Server floats have no NaN (missing values are NULL): test IS NULL"),
        exp.Mode: ("mode()", "SQL Server has no mode: count by value and keep the top row (ROW_NUMBER)"),
        exp.ApproxQuantile: ("approx_quantile()", "use median/quantile_cont (exact) instead"),
        exp.TableSample: ("USING SAMPLE / TABLESAMPLE", "sample with WHERE ABS(CHECKSUM(NEWID())) % 100 < p"),
        exp.Pivot: ("PIVOT/UNPIVOT", "DuckDB's PIVOT syntax differs from SQL Server's: aggregate with "
                                     "SUM(CASE WHEN key = 'a' THEN x END) per column"),
        exp.Columns: ("COLUMNS(...)", "name the columns"),
        exp.Lambda: ("lambda functions", "lists do not exist in SQL Server"),
        exp.Format: ("format()/printf()", "use CONCAT and FORMAT(x, '0.0')"),
        exp.IgnoreNulls: ("IGNORE NULLS", "filter the NULLs out first"),
    }
    for node in tree.walk():
        for cls, (construct, hint) in plain.items():
            if isinstance(node, cls):
                raise _refuse(construct, "SQL Server has no equivalent", hint)
        name = type(node).__name__
        if isinstance(node, (exp.Array, exp.Struct, exp.Bracket, exp.Explode, exp.Unnest)) or \
                (isinstance(node, exp.Func) and (name.startswith("Array") or name.startswith("List"))):
            raise _refuse(f"the list/struct {node.sql(dialect='duckdb')[:60]!s}", "lists, arrays and structs are DuckDB-only",
                          "keep one row per element (a long table) instead")
        if isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("except")
                                           or node.args.get("replace") or node.args.get("rename")):
            raise _refuse("SELECT * EXCLUDE/REPLACE", "SQL Server has no such star modifiers", "list the columns")
        if isinstance(node, exp.Join):
            method = str(node.args.get("method") or "").upper()
            if method in ("ASOF", "POSITIONAL", "NATURAL"):
                raise _refuse(f"{method} JOIN", "SQL Server has no such join", "write the join condition with ON")
            if node.args.get("using"):
                raise _refuse("JOIN ... USING (...)", "SQL Server has no USING clause", "write ON a.k = b.k")
        if isinstance(node, (exp.ReadParquet, exp.ReadCSV)) or (
                isinstance(node, exp.Anonymous) and str(node.name).lower().startswith("read_")):
            raise _refuse("reading files (read_parquet/read_csv)", "in the SRS the data are SQL Server tables",
                          "query the table by its name (leokit.db.srs_name)")
        if isinstance(node, exp.Ordered) and isinstance(node.this, exp.Var) and node.this.name.upper() == "ALL":
            raise _refuse("ORDER BY ALL", "SQL Server has no ORDER BY ALL", "list the columns")
        if isinstance(node, exp.Group) and (node.args.get("cube") or node.args.get("rollup")
                                            or node.args.get("grouping_sets")):
            if any(isinstance(n, (exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile))
                   for n in node.parent.find_all(exp.AggFunc)):
                raise _refuse("median with ROLLUP/CUBE/GROUPING SETS", "the window pattern needs plain GROUP BY keys",
                              "compute each grouping level separately")


def _resolve_group_by(select) -> None:
    """GROUP BY ALL / GROUP BY <position> / GROUP BY <alias> -> the expressions (T-SQL needs them)."""
    from sqlglot import exp

    group = select.args.get("group")
    if group is None:
        return
    items = select.expressions
    if group.args.get("all"):
        keys = [e.unalias().copy() for e in items
                if not any(_is_plain_agg(a) for a in e.find_all(exp.AggFunc)) and not isinstance(e.unalias(), exp.Star)]
        select.set("group", exp.Group(expressions=keys))
        return
    aliases = {e.alias.lower(): e.unalias() for e in items if isinstance(e, exp.Alias)}
    new = []
    for g in group.expressions:
        if isinstance(g, exp.Literal) and not g.is_string:
            i = int(g.name)
            if not 1 <= i <= len(items):
                raise _refuse(f"GROUP BY {i}", f"the select list has {len(items)} items")
            new.append(items[i - 1].unalias().copy())
        elif isinstance(g, exp.Column) and not g.table and g.name.lower() in aliases:
            target = aliases[g.name.lower()]
            same = isinstance(target, exp.Column) and target.name.lower() == g.name.lower()
            new.append(g if same else target.copy())
        else:
            new.append(g)
    group.set("expressions", new)


def _is_plain_agg(node) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.AggFunc) and node.find_ancestor(exp.Window) is None


_FROM = "from_"  # sqlglot's key for the FROM clause of a Select (sqlglot >= 30)


def _owner(node):
    from sqlglot import exp

    return node.find_ancestor(exp.Select)


def _percentile_roots(select) -> list:
    """Median/quantile nodes of this select (not of its subqueries), each as its outermost node."""
    from sqlglot import exp

    roots = []
    for node in select.find_all(exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile):
        root = node.parent if isinstance(node.parent, exp.WithinGroup) else node
        if _owner(root) is select and root not in roots:
            roots.append(root)
    return roots


def _percentile_parts(root):
    """(function class, quantile, value expression, descending) of a median/quantile node."""
    from sqlglot import exp

    if isinstance(root, exp.WithinGroup):
        func, order = root.this, root.expression
        q = func.this
        ords = order.expressions if isinstance(order, exp.Order) else []
        if len(ords) != 1:
            raise _refuse(root.sql(dialect="duckdb"), "WITHIN GROUP needs exactly one ORDER BY expression")
        x, desc = ords[0].this, bool(ords[0].args.get("desc"))
        cls = exp.PercentileCont if isinstance(func, exp.PercentileCont) else exp.PercentileDisc
    elif isinstance(root, exp.Median):
        cls, q, x, desc = exp.PercentileCont, exp.Literal.number(0.5), root.this, False
    elif isinstance(root, exp.Quantile):
        cls, q, x, desc = exp.PercentileDisc, root.args.get("quantile"), root.this, False
    else:
        cls = exp.PercentileCont if isinstance(root, exp.PercentileCont) else exp.PercentileDisc
        q, x, desc = root.args.get("expression"), root.this, False
    text = root.sql(dialect="duckdb")
    if isinstance(x, exp.Distinct):
        raise _refuse(text, "a percentile of DISTINCT values has no T-SQL form", "take DISTINCT in a subquery first")
    if isinstance(q, exp.Array) or q is None:
        raise _refuse(text, "a list of quantiles is DuckDB-only", "ask for one quantile per column")
    try:
        qv = float(q.name) if isinstance(q, exp.Literal) and not q.is_string else None
    except ValueError:
        qv = None
    if qv is None or not 0 <= qv <= 1:
        raise _refuse(text, "the quantile must be a number between 0 and 1 written in the query")
    if isinstance(root.parent, exp.Filter):
        raise _refuse(text + " FILTER (...)", "an aggregate FILTER on a percentile has no T-SQL form",
                      "filter the rows in WHERE or a subquery")
    return cls, q, x, desc


def _percentile_window(cls, q, x, desc, partition):
    from sqlglot import exp

    wg = exp.WithinGroup(this=cls(this=q.copy()), expression=exp.Order(
        expressions=[exp.Ordered(this=x.copy(), desc=desc, nulls_first=not desc)]))
    return exp.Window(this=wg, partition_by=[p.copy() for p in partition] or None)


def _rewrite_percentiles(select) -> None:
    """median/quantile -> PERCENTILE_CONT/DISC ... WITHIN GROUP (ORDER BY x) OVER (PARTITION BY keys)."""
    from sqlglot import exp

    roots = _percentile_roots(select)
    if not roots:
        return
    agg_roots = []
    for root in roots:
        win = root.parent if isinstance(root.parent, exp.Window) else None
        if win is not None:  # already a window: median(x) OVER (PARTITION BY g)
            if win.args.get("order") or win.args.get("spec"):
                raise _refuse(win.sql(dialect="duckdb"), "PERCENTILE_CONT ... OVER () allows only PARTITION BY",
                              "drop the ORDER BY / frame of the window")
            cls, q, x, desc = _percentile_parts(root)
            win.replace(_percentile_window(cls, q, x, desc, win.args.get("partition_by") or []))
        else:
            agg_roots.append(root)
    if not agg_roots:
        return
    if select.args.get("qualify") is not None:
        raise _refuse("median with QUALIFY", "the two rewrites cannot be combined", "filter in an outer query")
    group = select.args.get("group")
    keys = [g.copy() for g in group.expressions] if group is not None else []
    parts = [_percentile_parts(r) for r in agg_roots]
    in_pct = set()
    for r in agg_roots:
        in_pct.update(id(n) for n in r.walk())
    other_aggs = [a for a in select.find_all(exp.AggFunc)
                  if _owner(a) is select and _is_plain_agg(a) and id(a) not in in_pct]
    selected = {e.unalias().sql() for e in select.expressions}
    simple = (not other_aggs and select.args.get("having") is None and all(k.sql() in selected for k in keys))
    if simple:
        # SELECT DISTINCT keys..., PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY keys)
        for root, (cls, q, x, desc) in zip(agg_roots, parts):
            root.replace(_percentile_window(cls, q, x, desc, keys))
        select.set("group", None)
        select.set("distinct", exp.Distinct())
        return
    # Mixed with other aggregates: compute the windows in a subquery, take MAX() per group outside.
    inner = exp.Select()
    inner.set(_FROM, select.args.get(_FROM))
    if select.args.get("joins"):
        inner.set("joins", select.args.get("joins"))
    if select.args.get("where") is not None:
        inner.set("where", select.args.get("where"))
    for i, (cls, q, x, desc) in enumerate(parts, start=1):
        inner.select(exp.alias_(_percentile_window(cls, q, x, desc, keys), f"_pct{i}", copy=False), copy=False)
    aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    order = select.args.get("order")
    outer_parts = list(select.expressions) + ([select.args["group"]] if select.args.get("group") else []) + \
        ([select.args["having"]] if select.args.get("having") is not None else []) + ([order] if order else [])
    names: dict[tuple[str, str], str] = {}
    cols = []
    for part in outer_parts:
        for col in list(part.find_all(exp.Column)):
            if id(col) in in_pct or _owner(col) is not select:
                continue
            if order is not None and col.find_ancestor(exp.Order) is order and not col.table \
                    and col.name.lower() in aliases:
                continue  # ORDER BY an output alias
            cols.append(col)
            key = (col.table.lower(), col.name.lower())
            if key not in names:
                base = col.name if not any(k[1] == key[1] for k in names) else f"{col.table}_{col.name}"
                names[key] = base
                inner.select(exp.alias_(col.copy(), base, copy=False), copy=False)
    for col in cols:
        col.replace(exp.column(names[(col.table.lower(), col.name.lower())], table="_q"))
    for i, root in enumerate(agg_roots, start=1):
        root.replace(exp.Max(this=exp.column(f"_pct{i}", table="_q")))
    select.set(_FROM, exp.From(this=exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("_q")))))
    select.set("joins", None)
    select.set("where", None)


def _rewrite_functions(tree) -> None:
    """DuckDB functions whose sqlglot T-SQL spelling would be wrong or invalid."""
    from sqlglot import exp

    for node in list(tree.walk()):
        if isinstance(node, exp.Log) and node.args.get("expression") is None:
            # DuckDB log(x) is the base-10 logarithm; T-SQL LOG(x) is the natural one
            node.replace(exp.Log(this=exp.Literal.number(10), expression=node.this.copy()))
        elif isinstance(node, exp.Round) and node.args.get("decimals") is None:
            node.set("decimals", exp.Literal.number(0))  # T-SQL ROUND needs the length
        elif isinstance(node, exp.CurrentDate):
            node.replace(exp.Cast(this=exp.Anonymous(this="GETDATE"), to=exp.DataType.build("DATE")))
        elif isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TINYINT:
            node.replace(exp.DataType.build("SMALLINT"))  # DuckDB TINYINT is signed, T-SQL's is 0..255
        elif isinstance(node, exp.DateAdd) and isinstance(node.expression, exp.Interval):
            n, unit = _interval_parts(node.expression)
            node.replace(exp.DateAdd(this=node.this.copy(), expression=n, unit=unit))
        elif isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval):
            n, unit = _interval_parts(node.expression)
            if isinstance(node, exp.Sub):
                n = exp.Neg(this=n)
            node.replace(exp.DateAdd(this=node.this.copy(), expression=n, unit=unit))
    for node in tree.walk():
        if isinstance(node, exp.Interval):
            raise _refuse(f"INTERVAL ({node.sql(dialect='duckdb')})", "SQL Server has no interval type",
                          "add to a date with date + INTERVAL n UNIT (translated to DATEADD) or DATEADD")


def _interval_parts(iv):
    from sqlglot import exp

    unit = iv.args.get("unit")
    n = iv.this
    if unit is None or not isinstance(n, exp.Literal):
        raise _refuse(f"INTERVAL ({iv.sql(dialect='duckdb')})", "only INTERVAL <number> <unit> is translated",
                      "write DATEADD(unit, n, date)")
    try:
        num = exp.Literal.number(int(n.name))
    except ValueError:
        raise _refuse(f"INTERVAL ({iv.sql(dialect='duckdb')})", "DATEADD needs a whole number") from None
    return num, exp.var(unit.name.upper())


_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _check_functions(tree) -> None:
    """Every function call and type the T-SQL text will contain must exist in SQL Server."""
    from sqlglot import exp
    from sqlglot.errors import UnsupportedError

    dialect = srs_dialect()
    for node in tree.walk():
        if isinstance(node, exp.DataType):
            text = node.sql(dialect=dialect)
            base = re.match(r"\s*([A-Za-z0-9_]+)", text)
            if base and base.group(1).upper() not in _TSQL_TYPES:
                raise _refuse(f"type {node.sql(dialect='duckdb')}", f"it would become {text}, which SQL Server lacks",
                              "use BIGINT, FLOAT, DECIMAL(p, s), VARCHAR(n) or DATE")
        if not isinstance(node, exp.Func) or isinstance(node, exp.Window):
            continue
        try:
            text = node.sql(dialect=dialect)
        except UnsupportedError as e:
            raise _refuse(node.sql(dialect="duckdb")[:60], str(e)) from None
        m = _CALL.match(text)
        if m and m.group(1).upper() not in TSQL_FUNCTIONS:
            duck = _CALL.match(node.sql(dialect="duckdb"))
            name = duck.group(1) if duck else type(node).__name__
            raise _refuse(f"{name}()", f"it would become {m.group(1)}(), which SQL Server does not have",
                          "rewrite it with SQL Server built-ins (see book/reference/sql-dialects.md)")
