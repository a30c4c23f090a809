package store_test

import (
	"math"
	"strings"
	"testing"

	"movierec/als"
	"movierec/engine"
	"movierec/store"
)

func TestTrainingModelsRoundTrip(t *testing.T) {
	in := []engine.ModelTraining{
		{Model: "rating", Params: `{"Rank":8}`, Iterations: []engine.IterationStat{{N: 1, TrainError: 0.9, Seconds: 0.1}, {N: 2, TrainError: math.NaN(), Seconds: 0.2}}},
		{Model: "ranking", Params: `{"Rank":4}`, Iterations: []engine.IterationStat{{N: 1, TrainError: math.Inf(1), Seconds: 1}}},
		{Model: "empty"},
	}
	js, err := store.TrainingModelsJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"train_error":null`) {
		t.Errorf("TrainingModelsJSON = %s, want a non-finite train error stored as null", js)
	}
	out, err := store.ParseTrainingModels(js)
	if err != nil || len(out) != len(in) {
		t.Fatalf("ParseTrainingModels(%s) = %v, %v", js, out, err)
	}
	for i := range in {
		if out[i].Model != in[i].Model || out[i].Params != in[i].Params || len(out[i].Iterations) != len(in[i].Iterations) {
			t.Fatalf("model %d = %+v, want %+v", i, out[i], in[i])
		}
		for j, want := range in[i].Iterations {
			got := out[i].Iterations[j]
			finite := !math.IsNaN(want.TrainError) && !math.IsInf(want.TrainError, 0)
			if got.N != want.N || got.Seconds != want.Seconds || finite && got.TrainError != want.TrainError || !finite && !math.IsNaN(got.TrainError) {
				t.Errorf("model %d iteration %d = %+v, want %+v (non-finite errors read back as NaN)", i, j, got, want)
			}
		}
	}
	if _, err := store.ParseTrainingModels([]byte(`{`)); err == nil {
		t.Error("ParseTrainingModels(bad JSON) = nil error")
	}
}

func TestDecodeModel(t *testing.T) {
	blobs := func(users, movies []int32, uf, itf, ub, ib []float32) store.ModelBlobs {
		return store.ModelBlobs{UserIDs: store.Int32Bytes(users), MovieIDs: store.Int32Bytes(movies),
			UserFactors: store.Float32Bytes(uf), ItemFactors: store.Float32Bytes(itf), UserBias: store.Float32Bytes(ub), ItemBias: store.Float32Bytes(ib)}
	}
	tests := []struct {
		name   string
		rank   int
		bias   bool
		b      store.ModelBlobs
		wantOK bool
	}{
		{"rank 2 with biases", 2, true, blobs([]int32{0, math.MaxInt32}, []int32{5}, []float32{1, 2, 3, 4}, []float32{-1, 0.5}, []float32{0.1, 0.2}, []float32{-3}), true},
		{"rank 1 without biases", 1, false, blobs([]int32{7}, []int32{1, 2}, []float32{1}, []float32{2, 3}, nil, nil), true},
		{"factors short", 2, false, blobs([]int32{7}, []int32{1}, []float32{1}, []float32{2, 3}, nil, nil), false},
		{"bias missing", 1, true, blobs([]int32{7}, []int32{1}, []float32{1}, []float32{2}, nil, []float32{1}), false},
		{"rank 0", 0, false, blobs(nil, nil, nil, nil, nil, nil), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s engine.Snapshot
			m := als.Model{Rank: tc.rank, Bias: tc.bias}
			err := store.DecodeModel(&s, &m, tc.b)
			if (err == nil) != tc.wantOK {
				t.Fatalf("DecodeModel() = %v, want ok %t", err, tc.wantOK)
			}
			if tc.wantOK && (m.NumUsers != len(s.UserIDs) || m.NumItems != len(s.MovieIDs) ||
				string(store.Float32Bytes(m.UserFactors)) != string(tc.b.UserFactors) || string(store.Int32Bytes(s.UserIDs)) != string(tc.b.UserIDs)) {
				t.Errorf("DecodeModel() gave %+v, %+v: not the blobs' contents", s, m)
			}
		})
	}
}
