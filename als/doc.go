// Package als holds the math that every ALS backend shares: the ratings matrix
// in CSR form by user and by item, the training parameters, the trained model,
// the Solver seam that the cpu and gpu packages implement, and host-side
// prediction and error metrics.
//
// Two objectives share the solvers (Params.Objective). Explicit, the
// default, is Spark MLlib's explicit ALS ("ALS-WR"): minimise
//
//	Σ (r_ui − x_u·y_i)² + λ (Σ_u n_u‖x_u‖² + Σ_i n_i‖y_i‖²)
//
// where n_u and n_i are the rating counts of user u and item i. Each
// iteration solves every item against the fixed user factors, then every user
// against the new item factors. With Params.Bias the model is
// r̂ = μ + b_u + b_i + x_u·y_i; the biases are solved jointly with the factors
// as one extra coordinate (see AugmentedRank).
//
// Implicit is implicit-feedback ALS (Hu, Koren & Volinsky 2008, with the
// unobserved weight and frequency-scaled ridge of Rendle et al. 2022):
// every rated pair is a positive with confidence 1 + α·r, every pair a
// weak negative; its scores rank movies and are no ratings. Each row's
// system adds its rated items' corrections to the other side's Gram
// matrix, which all rows share; see implicit.go.
//
// The package is stdlib only: no cgo, no gonum.
package als
