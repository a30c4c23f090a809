// Package engine is the service's domain: the movie catalog, every user's
// ratings, the current model, fold-in of new ratings, recommendation and
// prediction, and the background retrain loop.
//
// The Engine keeps all ratings in memory, rows per user sorted by movie, so
// serving never touches storage. Writes go to the Store first and are applied
// in memory only once durable. The trained model is published through an
// atomic pointer: readers never wait for a training, and a retrain swaps the
// new model in at once.
package engine
