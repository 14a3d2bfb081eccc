"""Declared schemas of every table the kit reads: the contract between producer and consumers.

Each table in the LEO Iteration 2 standard extract (and the NPD tables delivered with it in the
ONS Secure Research Service) is declared here once: its SRS database, its columns with their
kinds, allowed values and ranges, and the key that is unique in the real data (where one is).

* The synthetic-data generator (``leokit.synth``) *produces* tables that follow these schemas.
* The loader (``leokit.load_table``) *validates* any table - synthetic or real - against them.

Nothing here imports the generator: on the real SRS tables this module is all the loader needs.

Sources are cited by their keys in ``book/references.bib``: [VRF] DfE LEO I2SE variable request
form v2.3, [FFT] FFT Education Datalab LEO I2 SQL, [I1SQL] LEO iteration-1 SQL, [ECHILD] ECHILD R code.
Where a name or a year boundary is not confirmed by a primary source the table or column carries
``inferred=...`` saying so; do not treat those as settled.

Column kinds (chosen so that the same code runs on pandas 2.2 and 3.x, and on tables read from SQL
Server through pyodbc, where integer columns with NULLs arrive as floats):

``int``   integer values; stored as an integer dtype, or as float64 when the column has missing
          values (every non-missing value must then be whole).
``float`` real numbers (float64).
``str``   text codes (object dtype holding ``str`` on pandas 2.x, the ``str`` dtype on pandas 3).
``date``  calendar dates (``datetime64``).

Columns whose name starts with ``syn_`` do not exist in the real extract: they are synthetic-only
additions that an exemplar needs, and are listed in ``data_synthetic/README.md``. Tables whose name
starts with ``truth_`` or ``syn_`` never exist in the SRS.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from leokit.errors import TableNotFoundError, UnknownTableError

__all__ = [
    "Column",
    "TableSchema",
    "FIRST_KS4_YEAR",
    "LAST_TAX_YEAR",
    "LAST_HESA_YEAR",
    "census_table_name",
    "census_suffix",
    "census_schema",
    "hesa_schema",
    "get_schema",
    "schema_for",
    "registered_schemas",
    "UnknownTableError",
    "PMR",
    "PERSON",
    "SRS_DATABASES",
]

# ----------------------------------------------------------------------------------------------
# Global time frame of the kit
# ----------------------------------------------------------------------------------------------
#: KS4 (GCSE) year of the oldest synthetic cohort, as the calendar year in which the academic
#: year ends (2005 = academic year 2004/05). Oldest cohort: born Sep 1988 - Aug 1989.
FIRST_KS4_YEAR = 2005
#: Default number of consecutive KS4 cohorts in the committed data (KS4 2005-2016). The oldest
#: cohorts reach 10 years after graduation and age 30 by 2020/21; the youngest reach the post-2015
#: KS4 measures and the later census column names (LSOA11, IDACIScore_10, IDACIScore_15).
DEFAULT_COHORTS = 12
#: Education data run to academic year 2020/21, HMRC/DWP data to tax year 2020/21 [VRF; ADRUK].
LAST_ACADEMIC_YEAR = 2021  # academic year 2020/21, by its end year
#: HESA comes as one table per academic year, hesa_2005 ... hesa_2020 (2019/20) in the LEO I2 extract [VRF].
LAST_HESA_YEAR = 2020
LAST_TAX_YEAR = 202021  # TaxYear coding as in leo_earnings: 202021 = 6 Apr 2020 - 5 Apr 2021
FIRST_SA_TAX_YEAR = 201314  # self-assessment robust only from 2013/14 [VRF]
FIRST_EARNINGS_TAX_YEAR = 200304  # P14 earnings from 2003/04 [VRF]

#: Kit schema (the data folder's subfolder) -> SQL Server database name in the SRS [FFT script headers].
SRS_DATABASES = {"leo_i2": "LEO_i2", "lilr_i2": "LILR_i2", "npd_i2": "npd_i2", "hesa_i2": "hesa_i2",
                 "ucas_i2": "ucas_i2"}

# ----------------------------------------------------------------------------------------------
# Person identifiers, as the kit's outputs name them
# ----------------------------------------------------------------------------------------------
#: The pupil identifier (Pupil Matching Reference), NPD spelling; the column name of the PMR in every
#: frame the kit makes (``leokit.linkage``, ``leokit.derive``).
PMR = "PupilMatchingRefAnonymous"
#: The person identifier: DfE's single person resolution id that bridges NPD (PMR), ILR (RECORDID) and
#: DWP/HMRC (EDUKEY) [VRF; FFT]; the default person column of person-level and person-year outputs.
PERSON = "AE_ID"


@dataclass(frozen=True)
class Column:
    """One declared column.

    ``values``: the allowed values (codes), or None. ``min``/``max``: inclusive range for numeric
    and date columns (dates as ISO strings). ``nullable``: whether missing values are allowed.
    """

    name: str
    kind: str  # "int" | "float" | "str" | "date"
    nullable: bool = True
    values: tuple | None = None
    min: float | str | None = None
    max: float | str | None = None
    description: str = ""
    source: str = ""
    inferred: str = ""  # non-empty: what about this column is not confirmed by a primary source

    def __post_init__(self) -> None:
        if self.kind not in {"int", "float", "str", "date"}:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")

    @property
    def synthetic_only(self) -> bool:
        return self.name.lower().startswith("syn_")


@dataclass(frozen=True)
class TableSchema:
    """One declared table: name (the Parquet stem and SRS table name), SRS database, columns, key."""

    name: str
    database: str  # npd_i2, leo_i2, hesa_i2, lilr_i2, ucas_i2, public, truth
    columns: tuple[Column, ...]
    key: tuple[str, ...] | None = None  # unique in the real data, where it is
    description: str = ""
    source: str = ""
    inferred: str = ""
    synthetic_only: bool = False
    #: (start, end) date columns of one row: the end must not be before the start (a spell that ends before it
    #: starts is an error in the data, refused by the validator, never silently dropped)
    ordered: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} declares no column {name!r}")


def _cols(*specs: Column) -> tuple[Column, ...]:
    names = [c.name for c in specs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate column declarations: {sorted(dupes)}")
    return tuple(specs)


B01 = (0, 1)
SEX = ("F", "M")
ETHNIC_MINOR = (
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN",
    "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT", "MISS",
)
ETHNIC_MAJOR = ("WHIT", "MIXD", "ASIA", "BLAC", "CHIN", "AOEG", "UNCL")
NCYEARS = ("R",) + tuple(str(i) for i in range(1, 15)) + ("X",)
GCSE_GRADES = ("*", "A", "B", "C", "D", "E", "F", "G", "U", "X")
GCSE_91 = tuple(str(i) for i in range(1, 10)) + ("U", "X")
A_LEVEL_GRADES = ("A*", "A", "B", "C", "D", "E", "U")
TARIFF_GROUPS = ("high", "medium", "low")
#: SIC 2007 sections [ONS]
SIC_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")
#: Benefit type codes [FFT fft.benefits.sql]
OUT_OF_WORK_BENEFITS = ("AA", "ESA", "IB", "ICA", "IS", "JSA", "JTA", "PC", "PIB", "RP", "SDA",
                        "UAA", "UBC", "UCE", "UDF")
OTHER_BENEFITS = ("BB", "DLA", "PIP", "UAB", "UBD", "UNA", "WB")
GOR_CODES = ("E12000001", "E12000002", "E12000003", "E12000004", "E12000005", "E12000006",
             "E12000007", "E12000008", "E12000009")
GOR_NAMES = ("North East", "North West", "Yorkshire and The Humber", "East Midlands",
             "West Midlands", "East of England", "London", "South East", "South West")
RUC11 = ("A1", "B1", "C1", "C2", "D1", "D2", "E1", "E2")
#: HESA degree class codes (HE_XCLASS01), simplified [VRF HESA sheet; code values INFERRED]
DEGREE_CLASSES = ("01", "02", "03", "04", "05", "06")  # first, 2:1, 2:2, third/pass, unclassified, not applicable


# ----------------------------------------------------------------------------------------------
# NPD school census: one wide table per year, every column suffixed with term + yy
# ----------------------------------------------------------------------------------------------
def census_table_name(year: int) -> str:
    """SRS table name of the January (spring) census whose academic year ends in ``year``.

    PLASC (the pre-2006 January census) is ``plasc_YYYY``; from 2006 ``spring_census_YYYY``
    [FFT fft.census_details.sql; VRF SC_Pupil]. Boundary year 2006 INFERRED.
    """
    return f"plasc_{year}" if year <= 2005 else f"spring_census_{year}"


def census_suffix(year: int) -> str:
    """Column suffix: ``_YY`` for PLASC, ``_sprYY`` for the spring census."""
    yy = f"{year % 100:02d}"
    return f"_{yy}" if year <= 2005 else f"_spr{yy}"


def _census_base_columns(year: int) -> list[Column]:
    ay = f"{year - 1}/{year}"
    cols = [
        Column("PupilMatchingRefAnonymous", "str", nullable=False,
               description="Pupil Matching Reference (anonymised), the NPD person key", source="VRF SC_Pupil"),
        Column("RecordStatus", "int", nullable=False, min=1, max=199,
               description="Duplicate resolution: 1 = main record; 101+ = duplicate record",
               source="VRF SC_Pupil; I1SQL", inferred="exact code list (main 1-10, 20) not checked; synthetic uses 1 and 101"),
        Column("AcademicYear", "str", nullable=False, values=(ay,), description="Academic year, e.g. '2010/2011'"),
        Column("CensusDate", "date", nullable=False, min=f"{year}-01-01", max=f"{year}-01-31",
               description="Census day (January)"),
        Column("Gender", "str", values=SEX, description="Sex recorded by the school (special category)"),
        Column("YearOfBirth", "int", min=1980, max=2015),
        Column("MonthOfBirth", "int", min=1, max=12),
        Column("AgeAtStartOfAcademicYear", "int", min=2, max=20),
        Column("EthnicGroupMajor", "str", values=ETHNIC_MAJOR),
        Column("EthnicGroupMinor", "str", values=ETHNIC_MINOR),
        Column("FSMeligible", "int", values=B01, description="Eligible for free school meals on census day"),
        Column("SENprovision", "str", values=("N", "A", "P", "S", "K", "E"),
               description="SEN provision: N none; A School Action and P Action Plus (to 2014/15); "
                           "S Statement (to 2017/18); K SEN support and E EHC plan (2014/15 on)"),
        Column("LanguageGroupMajor", "str", values=("1_ENG", "2_OTH", "3_UNCL")),
        Column("NCyearActual", "str", values=NCYEARS, description="National curriculum year group"),
        Column("LA_anon", "str", nullable=False, description="Local authority (pseudonymised)"),
        Column("LAEstab_anon", "str", nullable=False, description="LA + establishment number (pseudonymised)"),
        Column("URN_anon", "str", nullable=False, description="School unique reference number (pseudonymised)"),
    ]
    if year >= 2009:
        cols.append(Column("OnRoll", "int", values=B01, description="On roll on census day (from 2008/09)"))
    if year >= 2010:
        cols.append(Column("EVERFSM_ALL", "int", values=B01, description="Ever FSM-eligible (any census to date)",
                           inferred="start year 2009/10 from the reference notes"))
        cols.append(Column("EVERFSM_6", "int", values=B01, description="FSM-eligible at any census in the last 6 years",
                           inferred="start year in this table INFERRED"))
    # Area: 2001 LSOA to 2011/12, 2011 LSOA from 2012/13 [VRF; FFT]
    if year <= 2012:
        cols.append(Column("LLSOA", "str", description="Pupil's home Lower Layer Super Output Area (2001 geography)"))
    else:
        cols.append(Column("LSOA11", "str", description="Pupil's home LSOA (2011 geography)"))
    # IDACI: vintage drift IDACIScore -> IDACIScore_10 -> IDACIScore_15 [FFT examples spr15, _10_spr16, _15_spr17]
    if year <= 2015:
        idaci = ""
    elif year == 2016:
        idaci = "_10"
    else:
        idaci = "_15"
    cols.append(Column(f"IDACIScore{idaci}", "float", min=0.0, max=1.0,
                       description="Income Deprivation Affecting Children Index score of the home LSOA (share of children "
                                   "in income-deprived families)",
                       inferred="vintage boundaries (<=2014/15, 2015/16, 2016/17+) inferred from FFT column examples"))
    cols.append(Column(f"IDACIRank{idaci}", "int", min=1, max=32844, description="IDACI rank (1 = most deprived)"))
    return cols


def census_schema(year: int) -> TableSchema:
    """Schema of the census table for academic year ending ``year`` (columns carry the suffix)."""
    sfx = census_suffix(year)
    cols = tuple(
        Column(c.name + sfx, c.kind, c.nullable, c.values, c.min, c.max, c.description, c.source, c.inferred)
        for c in _census_base_columns(year)
    )
    return TableSchema(
        name=census_table_name(year),
        database="npd_i2",
        columns=cols,
        key=None,  # pupils may have duplicate records (RecordStatus); dedup is a documented step
        description=f"School census, January {year} (academic year {year - 1}/{year}), one row per pupil "
                    "record; wide, every column suffixed with term and year",
        source="VRF SC_Pupil; FFT fft.census_details.sql",
    )


# ----------------------------------------------------------------------------------------------
# HESA: one table per academic year
# ----------------------------------------------------------------------------------------------
def hesa_schema(year: int) -> TableSchema:
    """HESA student record for the academic year ending in ``year`` (``hesa_2011`` = 2010/11)."""
    cols = [
        Column("HE_PUPILMATCHINGREFANONYMOUS", "str", nullable=False),
        Column("HE_XINSTID01_ANON", "str", nullable=False, description="HE provider (pseudonymised)"),
        Column("HE_COMDATE", "date", min="1950-01-01", max=f"{year}-07-31",
               description="Start date of the course instance (no later than the end of the record's academic year)"),
        Column("HE_ENDDATE", "date", min="1950-01-01", max=f"{LAST_ACADEMIC_YEAR}-07-31",
               description="End date of the instance (missing if continuing); no later than the end of the extract"),
        Column("HE_YEARPRG", "int", min=1, max=8, description="Year of programme"),
        Column("HE_YEARSTU", "int", min=1, max=15, description="Year of student on this instance"),
        Column("HE_XMODE01", "str", values=("FT", "PT", "SW"), description="Mode: full-time, part-time, sandwich",
               inferred="codes simplified"),
        Column("HE_XPSR01", "int", values=B01, description="In the standard registration population"),
        Column("HE_XPQUAL01", "int", values=B01, description="In the qualifiers population (qualified this year)"),
        Column("HE_XQLEV601", "str", values=("PGR", "PGT", "FD", "OUG", "UG"),
               description="Level of qualification aimed for", inferred="codes simplified; UG = first degree"),
        Column("HE_XCLASS01", "str", values=DEGREE_CLASSES,
               description="Classification of first degree: 01 first, 02 upper second, 03 lower second, "
                           "04 third/pass, 05 unclassified, 06 not applicable (no qualification this year)",
               inferred="code values simplified"),
        Column("HE_XJACS01_1", "str", description="JACS 3 principal subject code (letter + 3 digits)"),
        Column("HE_SEXID", "str", values=SEX),
        Column("HE_XAGEA01", "int", min=14, max=80, description="Age at 31 August of the academic year"),
        Column("HE_RSNEND", "str", values=("01", "02", "03", "04", "98"),
               description="Reason for ending: 01 completed, 02 transferred, 03 left (health/financial/other), "
                           "04 written off, 98 other", inferred="codes simplified"),
    ]
    if 2012 <= year <= 2017:
        cols.append(Column("HE_XTARIFF", "int", min=0, max=1500,
                           description="UCAS tariff points on entry (2011/12-2016/17 only)"))
    if year >= 2020:
        cols.append(Column("HE_XCAH01_1", "str", description="Common Aggregation Hierarchy subject (2019/20 on)"))
    return TableSchema(
        name=f"hesa_{year}", database="hesa_i2", columns=_cols(*cols), key=None,
        ordered=(("HE_COMDATE", "HE_ENDDATE"),),
        description=f"HESA student record {year - 1}/{year}: one row per student instance; only NPD/ILR-linked students",
        source="VRF HESA sheet; FFT fft.hesa.sql",
    )


# ----------------------------------------------------------------------------------------------
# Fixed-name tables
# ----------------------------------------------------------------------------------------------
_TABLES: dict[str, TableSchema] = {}


def _register(t: TableSchema) -> TableSchema:
    if t.name in _TABLES:
        raise ValueError(f"table {t.name!r} declared twice")
    _TABLES[t.name] = t
    return t


_register(TableSchema(
    name="KS2Pupil_1996_to_2019_and_2022", database="npd_i2",
    source="VRF KS2 sheet; ECHILD",
    inferred="table name from iteration-1 naming; I2 name not confirmed (INFERRED; open question)",
    description="Key stage 2 (age 11) attainment, one row per pupil per KS2 year (a few duplicates)",
    columns=_cols(
        Column("KS2_PupilMatchingRefAnonymous", "str", nullable=False),
        Column("KS2_ACADYR", "str", nullable=False, description="Academic year, e.g. '2009/2010'"),
        Column("KS2_LAESTAB_anon", "str"), Column("KS2_URN_anon", "str"),
        Column("KS2_GENDER", "str", values=SEX),
        Column("KS2_YEAROFBIRTH", "int", min=1980, max=2015), Column("KS2_MONTHOFBIRTH", "int", min=1, max=12),
        Column("KS2_NATRES", "int", values=B01, description="Included in national results"),
        Column("KS2_ENGLEV", "str", values=("2", "3", "4", "5", "6", "B", "N", "A", "T"),
               description="English level (to 2015); letters: B below test, N not awarded, A absent, T unable to access"),
        Column("KS2_MATLEV", "str", values=("2", "3", "4", "5", "6", "B", "N", "A", "T")),
        Column("KS2_ENGTOTMRK", "int", min=0, max=100, description="English total test mark (to 2015)"),
        Column("KS2_MATTOTMRK", "int", min=0, max=100, description="Maths total test mark (to 2015)"),
        Column("KS2_APS", "float", min=0, max=40, description="KS2 average point score (to 2015)"),
        Column("KS2_READSCORE", "int", min=80, max=120, description="Reading scaled score (2015/16 on)"),
        Column("KS2_MATSCORE", "int", min=80, max=120, description="Maths scaled score (2015/16 on)"),
        Column("KS2_FSM", "int", values=B01),
        Column("KS2_IDACI", "float", min=0, max=1, description="IDACI score (2006/07-2009/10 only)"),
    ),
))

#: Columns shared by both KS4 tables (identity, school, characteristics) [VRF KS4 sheet; ECHILD]
_KS4_IDENTITY = (
    Column("KS4_PupilMatchingRefAnonymous", "str", nullable=False),
    Column("KS4_ACADYR", "str", nullable=False),
    Column("KS4_LAESTAB_anon", "str", nullable=False), Column("KS4_URN_anon", "str", nullable=False),
    Column("KS4_NATRES", "int", values=B01),
    Column("KS4_GENDER", "str", values=SEX),
    Column("KS4_YEAROFBIRTH", "int", min=1980, max=2015), Column("KS4_MONTHOFBIRTH", "int", min=1, max=12),
)
_KS4_CONTEXT = (
    Column("KS4_FSM", "int", values=B01), Column("KS4_FSM6", "int", values=B01, description="2011/12 on"),
    Column("KS4_IDACI", "float", min=0, max=1),
)

_register(TableSchema(
    name="KS4Pupil_2002_to_2014", database="npd_i2",
    source="VRF KS4 sheet; ECHILD; I1SQL",
    inferred="I2 table name not confirmed (INFERRED; open question)",
    description="Key stage 4 (GCSE) attainment to 2013/14: one row per pupil record; some pupils have several",
    columns=_cols(
        *_KS4_IDENTITY,
        *_KS4_CONTEXT,
        Column("KS4_LEVEL2_EM", "int", values=B01, description="5+ A*-C GCSEs incl. English and maths"),
        Column("KS4_PTSCNEWE", "float", min=0, max=700, description="Capped (best 8) GCSE point score, new scale"),
        Column("KS4_HGMATH", "str", values=GCSE_GRADES, description="Highest GCSE maths grade"),
        Column("KS4_APENG", "str", values=GCSE_GRADES, description="Highest GCSE English grade"),
        Column("KS4_EBACC", "int", values=B01, description="Achieved the English Baccalaureate"),
    ),
))

_register(TableSchema(
    name="KS4Pupil_2015_to_2021", database="npd_i2",
    source="VRF KS4 sheet; ECHILD",
    inferred="I2 table name not confirmed; KS4_P8SCORE tails INFERRED",
    description="Key stage 4 attainment from 2014/15 (Attainment 8 / Progress 8 era; GCSEs graded 9-1 from 2017)",
    columns=_cols(
        *_KS4_IDENTITY,
        *_KS4_CONTEXT,
        Column("KS4_ATT8", "float", min=0, max=90, description="Attainment 8 score (0-90)"),
        Column("KS4_P8SCORE", "float", min=-8, max=8, description="Progress 8 score"),
        Column("KS4_KS2EMSS", "float", description="Prior attainment: KS2 English and maths fine level"),
        Column("KS4_L2BASICS_94", "int", values=B01, description="Grade 4+ in English and maths"),
        Column("KS4_EBACC_94", "int", values=B01),
        Column("KS4_HGMATH_91", "str", values=GCSE_91), Column("KS4_APENG_91", "str", values=GCSE_91),
    ),
))

_register(TableSchema(
    name="KS5Student_2004_to_2021", database="npd_i2", source="VRF KS5 sheet",
    inferred="table name INFERRED (the reference names only 'KS5 Student Table')",
    description="Key stage 5 (16-18) student table: one row per student per KS5 year",
    columns=_cols(
        Column("KS5_PupilMatchingRefAnonymous", "str", nullable=False),
        Column("KS5_ACADYR", "str", nullable=False),
        Column("KS5_URN_anon", "str"),
        Column("KS5_GENDER", "str", values=SEX),
        Column("KS5_FSM", "int", values=B01),
        Column("KS5_TOTPTSE", "float", min=0, max=3000, description="Total A level and equivalent points"),
        Column("KS5_GRADE_AAB_ALL", "int", values=B01, description="AAB or better in A levels"),
        Column("KS5_LEV3THRESH", "int", values=B01, description="Reached the level 3 threshold"),
    ),
    key=("KS5_PupilMatchingRefAnonymous", "KS5_ACADYR"),
))

_register(TableSchema(
    name="KS5Exam_2004_to_2021", database="npd_i2", source="VRF KS5 sheet",
    inferred="table name INFERRED (the reference names only 'KS5 Exam Table'); points scale by year INFERRED",
    description="Key stage 5 exam table: one row per qualification (A levels here)",
    columns=_cols(
        Column("KS5_PupilMatchingRefAnonymous", "str", nullable=False),
        Column("KS5_ACADYR", "str", nullable=False),
        Column("KS5_EXAMYEAR", "int", min=2000, max=2021),
        Column("KS5_MAPPING", "str", description="Subject code"),
        Column("KS5_SUBLEVNO", "int", values=(111,), description="Qualification type: 111 = GCE A level"),
        Column("KS5_GRADE", "str", values=A_LEVEL_GRADES),
        Column("KS5_POINTS", "float", min=0, max=300,
               description="Points: old scale to 2015/16 (A*=300 ... E=150), new scale after (A*=60 ... E=10)"),
    ),
))

# UCAS ----------------------------------------------------------------------------------------
_UCAS_INF = "table names and the provider identifier INFERRED; the VRF lists fields, not SRS table names"
_register(TableSchema(
    name="ucas_applicants", database="ucas_i2", source="VRF UCAS", inferred=_UCAS_INF,
    description="UCAS applicants (linked English 18-year-olds), one row per applicant per cycle",
    key=("unique_id_cycle",),
    columns=_cols(
        Column("PupilMatchingRefAnonymous", "str"),
        Column("unique_id_cycle", "str", nullable=False),
        Column("applicant_id", "str", nullable=False),
        Column("application_cycle", "int", nullable=False, min=2005, max=2021),
        Column("applicant_polar4_code", "int", min=1, max=5),
        Column("applicant_imd_code", "int", min=1, max=5, description="IMD quintile (1 = most deprived)"),
        Column("applicant_gender_code", "str", values=SEX),
        Column("apply_centre_type", "str"),
        Column("accept_flag", "int", values=B01),
        Column("acceptance_route", "str"),
    ),
))
_register(TableSchema(
    name="ucas_applications", database="ucas_i2", source="VRF UCAS", inferred=_UCAS_INF,
    description="UCAS applications with provider decisions and applicant responses (up to 5 per applicant)",
    key=("unique_application_id_cycle",),
    columns=_cols(
        Column("unique_application_id_cycle", "str", nullable=False),
        Column("unique_id_cycle", "str", nullable=False),
        Column("application_cycle", "int", nullable=False, min=2005, max=2021),
        Column("inst_code_anon", "str", nullable=False, description="HE provider (pseudonymised)",
               inferred="name INFERRED"),
        Column("jacs3_sub_line_code", "str", description="JACS 3 subject area letter"),
        Column("he_provider_tariff_group", "str", values=TARIFF_GROUPS),
        Column("provider_decision_june30", "str",
               values=("Conditional offer", "Unconditional offer", "Rejected", "Withdrawn")),
        Column("app_response_june30", "str", values=("Firm", "Insurance", "Declined", "No response")),
        Column("main_scheme_application_flag", "int", values=B01),
        Column("entry_year", "int", min=2005, max=2022),
        Column("syn_offer_grades_required", "str", description="SYNTHETIC-ONLY: A-level grades the offer requires, e.g. 'AAB'"),
        Column("syn_offer_tariff_required", "int", min=0, max=200,
               description="SYNTHETIC-ONLY: the offer condition in (post-2017) UCAS tariff points"),
        Column("syn_contextual_offer_flag", "int", values=B01,
               description="SYNTHETIC-ONLY: the offer was a reduced contextual offer"),
    ),
))
_register(TableSchema(
    name="ucas_qualifications", database="ucas_i2", source="VRF UCAS", inferred=_UCAS_INF,
    description="Applicants' qualifications: predicted (Pending) and achieved (Gained) A-level grades",
    columns=_cols(
        Column("unique_id_cycle", "str", nullable=False),
        Column("application_cycle", "int", nullable=False, min=2005, max=2021),
        Column("qualification_status", "str", values=("Pending", "Gained")),
        Column("qualification_description", "str"),
        Column("subject_title", "str"),
        Column("grade", "str", values=A_LEVEL_GRADES),
        Column("qualification_year", "int", min=2000, max=2021),
    ),
))

# ILR -----------------------------------------------------------------------------------------
_register(TableSchema(
    name="learners", database="lilr_i2", source="VRF LILR sheets", key=("external_id",),
    description="ILR learners: one row per learner x provider x year x dataset",
    columns=_cols(
        Column("external_id", "int", nullable=False),
        Column("RECORDID", "int", nullable=False, description="Person key for non-NPD education records (-> education_records_lookup)"),
        Column("Year", "str", nullable=False, description="Start year of the academic year: '2012' = 2012/13"),
        Column("AcademicYear", "str"),
        Column("ukprn_anon", "str", description="FE provider (pseudonymised)"),
        Column("Sex", "str", values=SEX),
        Column("AcAge", "int", min=14, max=99, description="Age at 31 August"),
        Column("L_FullLevel2", "int", values=B01), Column("L_FullLevel3", "int", values=B01),
    ),
))
_register(TableSchema(
    name="aims", database="lilr_i2", source="VRF LILR sheets", key=("external_id", "sequence_index"),
    ordered=(("start_date", "end_date"),),
    description="ILR learning aims: one row per aim",
    columns=_cols(
        Column("external_id", "int", nullable=False), Column("RECORDID", "int", nullable=False),
        Column("sequence_index", "int", nullable=False, min=1, max=50),
        Column("learning_aim_id", "str"),
        Column("start_date", "date", min="1990-01-01", max=f"{LAST_ACADEMIC_YEAR}-07-31"),
        Column("end_date_expected", "date"),
        Column("end_date", "date", min="1990-01-01", max=f"{LAST_ACADEMIC_YEAR}-07-31"),
        Column("Compstatus", "int", values=(1, 2, 3, 6), description="1 continuing, 2 completed, 3 withdrawn, 6 break"),
        Column("outcome", "int", values=(1, 2, 3, 8), description="1 achieved, 2 partial, 3 no achievement, 8 not known"),
        Column("NotionalNVQLev", "int", values=(-1, 0, 1, 2, 3, 4, 5, 6, 9)),
        Column("FundModel", "int"),
        Column("programme_type", "int", description="2 advanced apprenticeship, 3 intermediate, 20 higher, 25 standard"),
        Column("AimType", "int", values=(1, 3, 4), description="1 programme aim, 3 component, 4 standalone"),
    ),
))

# Linkage --------------------------------------------------------------------------------------
_register(TableSchema(
    name="education_records_lookup", database="leo_i2", source="VRF; FFT", key=("RECORDID",),
    description="RECORDID (ILR and other education records) -> AE_ID",
    columns=_cols(Column("RECORDID", "int", nullable=False), Column("AE_ID", "int", nullable=False)),
))
_register(TableSchema(
    name="learner_ae_id_to_pmr_lookup", database="leo_i2", source="VRF; FFT",
    key=("AE_ID", "PUPILMATCHINGREFANONYMOUS"),
    description="AE_ID -> NPD Pupil Matching Reference; not one-to-one (an AE_ID may map to several PMRs)",
    columns=_cols(Column("AE_ID", "int", nullable=False), Column("PUPILMATCHINGREFANONYMOUS", "str", nullable=False)),
))
_register(TableSchema(
    name="learner_ae_id_to_edukey_lookup", database="leo_i2", source="VRF; FFT",
    key=("AE_ID", "EDUKEY"),
    description="AE_ID -> EDUKEY (DWP/HMRC outcome key); not one-to-one (an AE_ID may map to several EDUKEYs)",
    columns=_cols(Column("AE_ID", "int", nullable=False), Column("EDUKEY", "str", nullable=False)),
))

# LEO outcomes ---------------------------------------------------------------------------------
_register(TableSchema(
    name="leo_employment", database="leo_i2", source="VRF; FFT fft.employment.sql",
    ordered=(("StartDate", "EndDate"),),
    description="HMRC P45/RTI employment spells (PAYE); overlapping spells already merged; no self-employment",
    columns=_cols(
        Column("EduKey", "str", nullable=False),
        Column("StartDate", "date", min="1997-04-06", max="2021-04-05"),
        Column("EndDate", "date", min="1997-04-06", max="2021-04-05",
               description="Spell end; missing = still open at the end of the extract (ongoing)",
               inferred="missing-for-ongoing convention INFERRED (RTI employments have no end date until a leaver "
                        "date is reported); treat missing as 5 April 2021 when counting days"),
        Column("UncertainStartDate", "int", values=B01, description="Start date defaulted (e.g. to 6 April)"),
        Column("UncertainEndDate", "int", values=B01, description="End date defaulted (e.g. to 5 April)"),
    ),
))
_register(TableSchema(
    name="leo_earnings", database="leo_i2", source="VRF; FFT fft.earnings.sql", key=("Edukey", "TaxYear"),
    description="HMRC P14 PAYE earnings per tax year (all PAYE jobs summed; negatives set to 0), with the main "
                "enterprise from the IDBR",
    columns=_cols(
        Column("Edukey", "str", nullable=False),
        Column("TaxYear", "int", nullable=False, min=FIRST_EARNINGS_TAX_YEAR, max=LAST_TAX_YEAR,
               description="Tax year coded as 200405 = 6 Apr 2004 - 5 Apr 2005"),
        Column("Earnings", "int", min=0, max=10_000_000, description="Annual PAYE pay, GBP (negatives set to 0)"),
        Column("main_enterprise", "str", description="ENTKEY of the enterprise paying the most this year"),
        Column("enterprise_earnings", "int", min=0, description="Earnings from the main enterprise"),
        Column("Num_Employments", "int", min=0, max=50, description="Distinct enterprises this year"),
        Column("Main_Section", "str", values=SIC_SECTIONS, description="SIC 2007 section of the main enterprise"),
        Column("Main_SIC2007", "str", description="SIC 2007 code (5 digits) of the main enterprise"),
    ),
))
_register(TableSchema(
    name="leo_self_assessment", database="leo_i2", source="VRF", key=("Edukey", "TaxYear"),
    description="HMRC self-assessment (robust from 2013/14)",
    columns=_cols(
        Column("Edukey", "str", nullable=False),
        Column("TaxYear", "int", nullable=False, min=FIRST_SA_TAX_YEAR, max=LAST_TAX_YEAR),
        Column("Self_Employed", "int", values=(1,)),
        Column("EARNINGS_PTR", "int", description="Partnership earnings, GBP (missing = none)"),
        Column("EARNINGS_SOLE", "int", description="Sole-trader earnings, GBP (missing = none)"),
        Column("EARNINGS_SELF_EMPLOYMENT", "int", description="Self-employment earnings, GBP (missing = none)"),
    ),
))
_register(TableSchema(
    name="leo_benefit", database="leo_i2", source="VRF; FFT fft.benefits.sql",
    ordered=(("StartDate", "EndDate"),),
    description="DWP benefit spells (spells of one type merged)",
    columns=_cols(
        Column("EduKey", "str", nullable=False),
        Column("StartDate", "date", min="1999-04-06", max="2021-04-05"),
        Column("EndDate", "date", min="1999-04-06", max="2021-04-05",
               description="Spell end; missing = claim still open at the end of the extract",
               inferred="missing-for-ongoing convention INFERRED"),
        Column("Benefit_type", "str", values=OUT_OF_WORK_BENEFITS + OTHER_BENEFITS),
        Column("Out_of_work_benefit", "int", values=B01),
    ),
))
_register(TableSchema(
    name="geography", database="leo_i2", source="VRF", key=("Edukey", "TaxYear"),
    description="DWP CIS address: one residence per person per tax year (longest)",
    columns=_cols(
        Column("Edukey", "str", nullable=False),
        Column("TaxYear", "int", nullable=False, min=200405, max=LAST_TAX_YEAR),
        Column("LAUA_anon", "str"),
        Column("GOR", "str", values=GOR_CODES + ("W99999999", "S99999999", "N99999999", "L99999999", "M99999999")),
        Column("GORNM", "str"),
        Column("CTRYNM", "str", values=("England", "Wales", "Scotland", "Northern Ireland", "Abroad", "Unknown")),
    ),
))
_register(TableSchema(
    name="idbr_lookup", database="leo_i2", source="VRF", key=("ENTKEY", "SourceYear"),
    description="Inter-Departmental Business Register enterprises linked to PAYE earnings",
    columns=_cols(
        Column("ENTKEY", "str", nullable=False),
        Column("SIC2007", "str"),
        Column("SECTIONNAME", "str", values=SIC_SECTIONS),
        Column("Govt_Region", "str", values=GOR_CODES),
        Column("legalstatus", "str"),
        Column("Employees", "str", values=("0-9", "10-49", "50-249", "250-999", "1000+"),
               description="Employment size band", inferred="band edges INFERRED"),
        Column("Birth_month", "date"), Column("Death_month", "date"),
        Column("SourceYear", "str", values=("2019", "2020"), nullable=False,
               description="IDBR extract: 2019 (used for tax years to 2016/17) or 2020 (2017/18 on)"),
    ),
))

# Labour-side truth tables (synthetic only; written to out/truth/) ---------------------------------
_register(TableSchema(
    name="truth_enterprise", database="truth", key=("ENTKEY",), synthetic_only=True,
    source="leokit.synth.labour", description="SYNTHETIC-ONLY: every simulated enterprise with its planted wage premium",
    columns=_cols(
        Column("ENTKEY", "str", nullable=False, description="Enterprise key as in leo_earnings.main_enterprise / idbr_lookup"),
        Column("firm_premium", "float", nullable=False, description="psi_j: enterprise wage premium (log points)"),
        Column("attraction_weight", "float", nullable=False, min=0, description="Sample-scale size weight w_j used in job choice"),
        Column("employees", "int", nullable=False, min=1, description="National employee count (banded in idbr_lookup)"),
        Column("size_band", "str", nullable=False, values=("0-9", "10-49", "50-249", "250-999", "1000+")),
        Column("section", "str", nullable=False, values=SIC_SECTIONS),
        Column("region", "str", nullable=False, values=GOR_CODES),
        Column("birth_year", "int", nullable=False, description="First tax year (start year) the enterprise can employ"),
        Column("death_year", "int", description="First tax year it no longer employs (missing = alive)"),
        Column("sample_worker_years", "int", nullable=False, min=0, description="Person-years with it as main employer"),
    ),
))
_register(TableSchema(
    name="truth_person_year", database="truth", key=("person_id", "TaxYear"), synthetic_only=True,
    source="leokit.synth.labour",
    description="SYNTHETIC-ONLY: one row per person and tax year from age 16: activity, main employer and every "
                "component of full-year-equivalent log PAYE earnings (see leokit/synth/LABOUR_DGP.md)",
    columns=_cols(
        Column("person_id", "int", nullable=False), Column("edukey", "str", nullable=False),
        Column("TaxYear", "int", nullable=False, min=199798, max=LAST_TAX_YEAR),
        Column("age", "int", nullable=False, min=15, max=80,
               description="Age of the person's KS4 cohort in the tax year (leokit.years.age_in_taxyear)"),
        Column("status", "str", nullable=False, values=("school", "he", "lm"),
               description="school/college, higher education, or labour market"),
        Column("employed", "int", nullable=False, values=B01, description="Has PAYE employment (a main enterprise)"),
        Column("self_employed", "int", nullable=False, values=B01),
        Column("abroad", "int", nullable=False, values=B01),
        Column("out_of_work_benefit", "int", nullable=False, values=B01, description="Claims an out-of-work benefit"),
        Column("part_time", "int", nullable=False, values=B01, description="Part-time (annual pay x 0.6)"),
        Column("ENTKEY", "str", description="Main enterprise (missing when not employed)"),
        Column("days_employed", "int", nullable=False, min=0, max=366),
        Column("graduated", "int", nullable=False, values=B01, description="Holds a first degree by this tax year"),
        Column("experience", "int", nullable=False, min=0, max=60,
               description="Years since leaving school/college, HE years included (0 while in education); "
                           "descriptive only: pay follows the age profile (experience_effect)"),
        Column("person_effect", "float", nullable=False, description="alpha_i"),
        Column("firm_premium", "float", description="psi of the main enterprise (missing when not employed)"),
        Column("year_effect", "float", nullable=False, description="Nominal year effect Y_T (0 in 2015/16)"),
        Column("experience_effect", "float", nullable=False,
               description="Age profile of log pay by sex at the cohort age (the same with or without a degree)"),
        Column("degree_ramp", "float", nullable=False, min=0, max=1),
        Column("degree_component", "float", nullable=False, description="degree_ramp x individual return r_i"),
        Column("coworker_grad_share", "float", min=0, max=1,
               description="Leave-one-out graduate share among same-enterprise coworkers (missing: none or not employed)"),
        Column("coworker_component", "float", description="kappa x share (0 with no coworkers; missing if not employed)"),
        Column("shock", "float", nullable=False, description="AR(1) + iid transitory component"),
        Column("student_offset", "float", nullable=False, description="Part-time student work offset (in education)"),
        Column("log_earnings_fte", "float", description="Full-year-equivalent log pay = sum of the components (employed)"),
        Column("log_earnings_fte_no_degree", "float", description="The same without the degree component"),
        Column("earnings_true", "float", nullable=False, min=0,
               description="Annual PAYE pay before the released-table messiness (0 if not employed)"),
    ),
))


# Synthetic-only enterprise output (the "graduates and firm productivity" lesson) ------------------
_register(TableSchema(
    name="syn_enterprise_output", database="leo_i2", key=("ENTKEY", "TaxYear"), synthetic_only=True,
    source="leokit.synth.labour",
    description="SYNTHETIC-ONLY: log output per worker of each enterprise in each tax year in which it is the main "
                "enterprise of at least one sample person (LEO has no output or productivity measure; the IDBR has "
                "no turnover in the extract). Planted effect of the graduate share: truth.json "
                "firm_graduate_share_productivity_effect.",
    columns=_cols(
        Column("ENTKEY", "str", nullable=False, description="Enterprise key as in leo_earnings.main_enterprise"),
        Column("TaxYear", "int", nullable=False, min=FIRST_EARNINGS_TAX_YEAR, max=LAST_TAX_YEAR),
        Column("syn_log_output_per_worker", "float", nullable=False,
               description="SYNTHETIC-ONLY: log of output (gross value added, GBP, nominal) per worker"),
    ),
))


# Public area lookups (downloaded by researchers into their project) --------------------------------
_PUB_INF = "synthetic values on real code formats; in the SRS load the published files"
_register(TableSchema(
    name="imd2019_lsoa11", database="public", key=("lsoa11cd",), source="MHCLG English Indices of Deprivation 2019",
    inferred=_PUB_INF,
    description="IMD 2019 and IDACI 2019 by 2011 LSOA (rank 1 = most deprived; decile 1 = most deprived 10%)",
    columns=_cols(
        Column("lsoa11cd", "str", nullable=False),
        Column("imd_rank", "int", nullable=False, min=1, max=32844),
        Column("imd_decile", "int", nullable=False, min=1, max=10),
        Column("idaci_score", "float", nullable=False, min=0, max=1),
        Column("idaci_rank", "int", nullable=False, min=1, max=32844),
        Column("idaci_decile", "int", nullable=False, min=1, max=10),
    ),
))
_register(TableSchema(
    name="polar4_lsoa11", database="public", key=("lsoa11cd",), source="OfS POLAR4",
    inferred=_PUB_INF + "; real POLAR4 is published by ward/MSOA/postcode - an LSOA best-fit lookup is assumed",
    description="POLAR4 young participation quintile (1 = lowest participation)",
    columns=_cols(Column("lsoa11cd", "str", nullable=False),
                  Column("polar4_quintile", "int", min=1, max=5)),
))
_register(TableSchema(
    name="tundra_lsoa11", database="public", key=("lsoa11cd",), source="OfS TUNDRA (LSOA version)",
    inferred=_PUB_INF,
    description="TUNDRA quintile (1 = lowest participation of state-school KS4 pupils)",
    columns=_cols(Column("lsoa11cd", "str", nullable=False),
                  Column("tundra_quintile", "int", min=1, max=5)),
))
_register(TableSchema(
    name="ruc11_lsoa11", database="public", key=("lsoa11cd",), source="ONS Rural-Urban Classification 2011",
    inferred=_PUB_INF,
    description="Rural-urban classification of 2011 LSOAs",
    columns=_cols(Column("lsoa11cd", "str", nullable=False),
                  Column("ruc11cd", "str", nullable=False, values=RUC11),
                  Column("ruc11nm", "str")),
))
_register(TableSchema(
    name="lsoa01_lsoa11_lookup", database="public", key=("lsoa01cd", "lsoa11cd"), source="ONS LSOA 2001 to 2011 lookup",
    inferred=_PUB_INF,
    description="2001 LSOA -> 2011 LSOA (U unchanged, S split, M merged)",
    columns=_cols(Column("lsoa01cd", "str", nullable=False), Column("lsoa11cd", "str", nullable=False),
                  Column("chgind", "str", values=("U", "S", "M", "X"))),
))

# Synthetic-only context tables ----------------------------------------------------------------------
_register(TableSchema(
    name="syn_he_provider", database="public", key=("inst_code_anon",), synthetic_only=True,
    description="SYNTHETIC-ONLY: HE provider context. In the SRS providers are pseudonymised, so a researcher would "
                "derive tariff group from UCAS and entry tariff from the data; this table also carries a quality measure.",
    columns=_cols(
        Column("inst_code_anon", "str", nullable=False, description="Provider id as in ucas_applications"),
        Column("HE_XINSTID01_ANON", "str", nullable=False, description="Provider id as in hesa_YYYY"),
        Column("syn_tariff_group", "str", values=TARIFF_GROUPS),
        Column("syn_quality_score", "float", description="Standardised provider quality measure"),
        Column("syn_contextual_adoption_cycle", "int", description="UCAS cycle in which the provider began contextual offers (missing = never)"),
    ),
))


# Education-side truth table (synthetic only; written to out/truth/) --------------------------------
_B = dict(nullable=False, values=B01)
_register(TableSchema(
    name="truth_contextual", database="truth", key=("unique_id_cycle",), synthetic_only=True,
    description="SYNTHETIC-ONLY answer key of the contextual-offer design: one row per UCAS applicant with potential "
                "outcomes without (_0) and with (_1) contextual-offer eligibility, from the same random draws",
    columns=_cols(
        Column("person_id", "int", nullable=False), Column("ae_id", "int", nullable=False),
        Column("unique_id_cycle", "str", nullable=False, description="As in ucas_applicants"),
        Column("application_cycle", "int", nullable=False, min=2005, max=2021),
        Column("idaci_score", "float", nullable=False, min=0, max=1, description="Running variable: IDACI 2019 of home LSOA at 16"),
        Column("eligible", "int", description="idaci_score >= contextual_offer_cutoff", **_B),
        Column("adoption_share", "float", nullable=False, min=0, max=1,
               description="a_c: share (by capacity) of eventually-adopting high-tariff providers adopted by this cycle"),
        Column("alevel_points", "float", description="Best three A levels, post-2017 tariff"),
        Column("predicted_points", "float", description="Best three predicted A levels, post-2017 tariff"),
        Column("strict", "int", description="Admitted strictly on stated offers without a formal scheme (nu < delta): "
                                            "the only applicants a contextual offer can move", **_B),
        Column("full_scheme_effect", "int", nullable=False, values=(-1, 0, 1),
               description="B_i: high-tariff entry with contextual offers at every eventually-adopting provider minus "
                           "with standard offers only (same draws)"),
        Column("high_tariff_entry_0", "int", **_B), Column("high_tariff_entry_1", "int", **_B),
        Column("tariff_group_0", "str", nullable=False, values=TARIFF_GROUPS + ("none",)),
        Column("tariff_group_1", "str", nullable=False, values=TARIFF_GROUPS + ("none",)),
        Column("entry_route_0", "str", values=("Firm", "Insurance", "Clearing"), description="Missing = no HE"),
        Column("entry_route_1", "str", values=("Firm", "Insurance", "Clearing")),
        Column("high_tariff_offer_0", "int", description="Holds any high-tariff offer", **_B),
        Column("high_tariff_offer_1", "int", **_B),
        Column("degree_0", "int", **_B), Column("degree_1", "int", **_B),
        Column("first_class_0", "int", **_B), Column("first_class_1", "int", **_B),
        Column("continuation_0", "int", description="Entered HE and studied into a second year", **_B),
        Column("continuation_1", "int", **_B),
        Column("marginal", "int", description="Enters high tariff only if eligible (complier)", **_B),
        Column("contextual_offer_entrant_1", "int",
               description="If eligible, enters HE through an application holding a contextual offer", **_B),
    ),
))


# ----------------------------------------------------------------------------------------------
# Look-up
# ----------------------------------------------------------------------------------------------
def get_schema(name: str) -> TableSchema:
    """The declared schema of table ``name`` (the Parquet stem / SRS table name).

    Year-suffixed families are recognised by pattern: ``plasc_YYYY``, ``spring_census_YYYY`` and
    ``hesa_YYYY``. Raises :class:`UnknownTableError` naming the table otherwise.
    """
    if name in _TABLES:
        return _TABLES[name]
    for prefix, lo, hi, factory in (
        ("plasc_", 2002, 2005, census_schema),
        ("spring_census_", 2006, LAST_ACADEMIC_YEAR, census_schema),
        ("hesa_", 2005, LAST_HESA_YEAR, hesa_schema),
    ):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            year = int(name[len(prefix):])
            if lo <= year <= hi:
                return factory(year)
    raise UnknownTableError(
        f"table {name!r}: no declared schema (known: the fixed tables {sorted(_TABLES)}, "
        "plasc_2002..plasc_2005, spring_census_2006..spring_census_2021, hesa_2005..hesa_2020)"
    )


def _known_names() -> list[str]:
    names = list(registered_schemas())
    names += [census_table_name(y) for y in range(2002, LAST_ACADEMIC_YEAR + 1)]
    names += [f"hesa_{y}" for y in range(2005, LAST_HESA_YEAR + 1)]
    return names


def schema_for(name: str) -> TableSchema:
    """The declared schema of ``name``; unknown names raise :class:`~leokit.errors.TableNotFoundError` with near
    matches (the loader's and the validator's look-up; :func:`get_schema` raises a plain ``KeyError``)."""
    try:
        return get_schema(name)
    except KeyError:
        known = _known_names()
        near = [k for k in known if k.lower() == str(name).lower()]
        near += [k for k in difflib.get_close_matches(str(name), known, n=5, cutoff=0.6) if k not in near]
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise TableNotFoundError(
            str(name),
            f"table {name!r}: no declared schema in leokit.schema{hint} "
            "(year families: plasc_2002..2005, spring_census_2006..2021, hesa_2005..2020)",
        ) from None


def registered_schemas(years: Iterable[int] | None = None) -> dict[str, TableSchema]:
    """All fixed-name schemas, plus census and HESA schemas for ``years`` (default: none)."""
    out = dict(_TABLES)
    for y in years or ():
        out[census_table_name(y)] = census_schema(y)
        out[f"hesa_{y}"] = hesa_schema(y)
    return out
