// Package store holds what the service's stores share: the progress
// reports of bulk reads and imports, and DB, the method set the command
// line uses, so that main can hold either store. The stores themselves are
// one package per dependency: store/sqlite (the embedded default, one
// machine) and store/postgres (several processes sharing one database).
// store/storetest is the conformance suite both pass.
//
// This package imports neither store; they import it.
package store
