// Package alstest holds what every als.Solver backend is tested with: a
// conformance suite (Run), synthetic problem generators (Synthetic,
// SyntheticBias, Sizes) and a slow, plain-Go reference fit (Reference,
// ReferenceHalf) that faster backends are compared against.
//
// It depends on als and the standard library only.
package alstest
