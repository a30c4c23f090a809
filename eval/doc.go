// Package eval measures a training backend offline: it splits ratings into
// train and test sets, trains on one and scores the other, as the tutorial's
// model selection did and as Spark's coldStartStrategy "drop" scores (test
// pairs whose user or movie never occurs in training are skipped and
// counted).
package eval
