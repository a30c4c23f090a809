package api_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"movierec/api"
)

func TestRegisterGPUFallbacks(t *testing.T) {
	reg := prometheus.NewRegistry()
	count := api.RegisterGPUFallbacks(reg)
	count("stalled")
	count("stalled")
	count("circuit_open")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "movierec_gpu_fallbacks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"stalled": 2, "failed": 0, "circuit_open": 1}
	for reason, n := range want {
		if got[reason] != n {
			t.Errorf("movierec_gpu_fallbacks_total{reason=%q} = %v, want %v (all: %v)", reason, got[reason], n, got)
		}
	}
}
