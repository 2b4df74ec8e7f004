"""What moves the value, and by how much: risk cubes and their ``.risk`` accessor.

Importing :mod:`risk` registers the ``.risk`` accessor on ``xarray.Dataset``.

>>> import risk
>>> risk.GREEKS[:3]
('delta', 'gamma', 'vega')
"""

from risk import accessor as _accessor  # noqa: F401  (registers Dataset.risk)
from risk.accessor import RiskAccessor
from risk.cube import (
    DATA_VARS,
    GREEKS,
    LEVELS,
    SCENARIO_VARS,
    SCHEMA_VERSION,
    SENS_CLASSES,
    SENS_MEASURES,
    SENS_VARS,
    STR_ATTRS,
    TRADE_COORDS,
    bucket_key,
    build_cube,
    cube_template,
    greek_array,
    sensitivity_dataset,
    validate_cube,
)
from risk.cube_io import (
    append_sensitivities,
    create_store,
    open_cube,
    read_sensitivities,
    store_chunk_size,
    write_cube,
    write_region,
    write_sensitivities,
)
from risk.factors import FACTOR_CLASSES, RiskFactor, risk_factors
from risk.greeks import (
    BumpSizes,
    GreekPlan,
    GreekRow,
    LongForm,
    Sensitivities,
    compute_greeks,
    greek_plan,
    reduce,
    roll_date,
)

__all__ = [
    "DATA_VARS",
    "FACTOR_CLASSES",
    "GREEKS",
    "LEVELS",
    "SCENARIO_VARS",
    "SCHEMA_VERSION",
    "SENS_CLASSES",
    "SENS_MEASURES",
    "SENS_VARS",
    "STR_ATTRS",
    "TRADE_COORDS",
    "BumpSizes",
    "GreekPlan",
    "GreekRow",
    "LongForm",
    "RiskAccessor",
    "RiskFactor",
    "Sensitivities",
    "append_sensitivities",
    "bucket_key",
    "build_cube",
    "compute_greeks",
    "create_store",
    "cube_template",
    "greek_array",
    "greek_plan",
    "open_cube",
    "read_sensitivities",
    "reduce",
    "risk_factors",
    "roll_date",
    "sensitivity_dataset",
    "store_chunk_size",
    "validate_cube",
    "write_cube",
    "write_region",
    "write_sensitivities",
]
