package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"movierec/als"
	"movierec/engine"
)

// This file holds the encodings both stores write the same way: factor
// and id arrays as little-endian blobs, and a training's models as JSON.
// The functions are pure and safe for concurrent use.

// Float32Bytes returns v as a little-endian blob (4 bytes a value).
func Float32Bytes(v []float32) []byte {
	b, _ := binary.Append(make([]byte, 0, 4*len(v)), binary.LittleEndian, v)
	return b
}

// Int32Bytes returns v as a little-endian blob (4 bytes a value).
func Int32Bytes(v []int32) []byte {
	b, _ := binary.Append(make([]byte, 0, 4*len(v)), binary.LittleEndian, v)
	return b
}

// BytesFloat32 decodes a Float32Bytes blob into a new slice (a trailing
// partial value is ignored).
func BytesFloat32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	_, _ = binary.Decode(b, binary.LittleEndian, v)
	return v
}

// BytesInt32 decodes an Int32Bytes blob into a new slice.
func BytesInt32(b []byte) []int32 {
	v := make([]int32, len(b)/4)
	_, _ = binary.Decode(b, binary.LittleEndian, v)
	return v
}

// ModelBlobs are the stored arrays of one model row.
type ModelBlobs struct {
	UserIDs, MovieIDs, UserFactors, ItemFactors, UserBias, ItemBias []byte
}

// DecodeModel fills s's ids and m's factors (and biases when m.Bias) from
// the blobs of a row whose Rank and Bias m already holds, and checks that
// the arrays agree with each other.
func DecodeModel(s *engine.Snapshot, m *als.Model, b ModelBlobs) error {
	s.UserIDs, s.MovieIDs = BytesInt32(b.UserIDs), BytesInt32(b.MovieIDs)
	m.UserFactors, m.ItemFactors = BytesFloat32(b.UserFactors), BytesFloat32(b.ItemFactors)
	m.NumUsers, m.NumItems = len(s.UserIDs), len(s.MovieIDs)
	if m.Bias {
		m.UserBias, m.ItemBias = BytesFloat32(b.UserBias), BytesFloat32(b.ItemBias)
	}
	if m.Rank < 1 || len(m.UserFactors) != m.NumUsers*m.Rank || len(m.ItemFactors) != m.NumItems*m.Rank ||
		m.Bias && (len(m.UserBias) != m.NumUsers || len(m.ItemBias) != m.NumItems) {
		return fmt.Errorf("load model: stored arrays do not match rank %d, %d users, %d movies", m.Rank, m.NumUsers, m.NumItems)
	}
	return nil
}

// modelTrainingRow is the JSON shape of one model in a training's models.
type modelTrainingRow struct {
	Model      string         `json:"model"`
	Params     string         `json:"params"`
	Iterations []iterationRow `json:"iterations"`
	WarmStart  int64          `json:"warm_start,omitempty"`
}

// iterationRow is one iteration; a train error that is not finite (a
// diverged fit) is stored as null and read back as NaN.
type iterationRow struct {
	N          int      `json:"n"`
	TrainError *float64 `json:"train_error"`
	Seconds    float64  `json:"seconds"`
}

// TrainingModelsJSON encodes a training's models for the trainings table:
// a JSON array of {"model", "params", "iterations": [{"n", "train_error",
// "seconds"}]}.
func TrainingModelsJSON(ms []engine.ModelTraining) ([]byte, error) {
	rows := make([]modelTrainingRow, len(ms))
	for i, m := range ms {
		rows[i] = modelTrainingRow{Model: m.Model, Params: m.Params, Iterations: make([]iterationRow, len(m.Iterations)), WarmStart: m.WarmStart}
		for j, it := range m.Iterations {
			rows[i].Iterations[j] = iterationRow{N: it.N, Seconds: it.Seconds}
			if !math.IsNaN(it.TrainError) && !math.IsInf(it.TrainError, 0) {
				rows[i].Iterations[j].TrainError = &it.TrainError
			}
		}
	}
	return json.Marshal(rows)
}

// ParseTrainingModels decodes TrainingModelsJSON's output.
func ParseTrainingModels(js []byte) ([]engine.ModelTraining, error) {
	var rows []modelTrainingRow
	if err := json.Unmarshal(js, &rows); err != nil {
		return nil, err
	}
	out := make([]engine.ModelTraining, len(rows))
	for i, m := range rows {
		out[i] = engine.ModelTraining{Model: m.Model, Params: m.Params, Iterations: make([]engine.IterationStat, len(m.Iterations)), WarmStart: m.WarmStart}
		for j, it := range m.Iterations {
			out[i].Iterations[j] = engine.IterationStat{N: it.N, TrainError: math.NaN(), Seconds: it.Seconds}
			if it.TrainError != nil {
				out[i].Iterations[j].TrainError = *it.TrainError
			}
		}
	}
	return out, nil
}
