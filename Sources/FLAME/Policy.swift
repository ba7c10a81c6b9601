// The pool's policy lives in its own module, FLAMEPolicy (a sans-IO state machine whose state
// only its events change). Its public part, `FLAMEError` and `PoolGrowth`, is FLAME's API:
// apps that import FLAME use them without importing FLAMEPolicy. (Its `package` state machine
// stays invisible outside this package.)
@_exported public import FLAMEPolicy
