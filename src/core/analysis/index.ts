/** Critical points and the Hessian: second-order analysis of scalar problems. */
export {
  type Classification,
  type CriticalPointOptions,
  type CriticalPointReport,
  type EscapeDirection,
  type EscapeStep,
  type NamedValue,
  type SpectrumReport,
  DEFAULT_CRITICAL_POINT_OPTIONS,
  analyzeCriticalPoint,
} from './critical-point';
export {
  type Eigenpairs,
  type LanczosOptions,
  type LanczosResult,
  type RitzPair,
  DEFAULT_LANCZOS_OPTIONS,
  DENSE_EIGEN_LIMIT,
  lanczos,
  symmetricEigen,
} from './eigen';
export {
  type HessianOptions,
  type HessianResult,
  type HessianSource,
  type HessianVectorProduct,
  type SymmetryReport,
  DEFAULT_HESSIAN_OPTIONS,
  computeHessian,
  hessianVectorProduct,
  productSymmetry,
} from './hessian';

