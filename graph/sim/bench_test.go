package sim_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// post sends a create through a real loopback connection.
func benchPost(b *testing.B, e *env, i int) {
	resp, err := e.srv.Client().Post(e.coll, "application/json",
		bytes.NewReader([]byte(`{"@odata.type":"#microsoft.graph.androidDeviceOwnerEnrollmentProfile","displayName":"Bench `+strconv.Itoa(i)+`"}`)))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkCreate measures a create end to end over loopback HTTP, with
// and without rendering the QR image into the 201.
func BenchmarkCreate(b *testing.B) {
	for _, omit := range []bool{false, true} {
		b.Run(fmt.Sprintf("OmitImage=%v", omit), func(b *testing.B) {
			e := start(&testing.T{}, sim.Options{OmitImage: omit})
			defer e.srv.Close()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					benchPost(b, e, i)
				}
			})
		})
	}
}

// BenchmarkLookup20k measures the reads a job makes against a tenant of
// 20,000 profiles: one list page, and a $filter lookup by name.
func BenchmarkLookup20k(b *testing.B) {
	e := start(&testing.T{}, sim.Options{})
	defer e.srv.Close()
	e.sim.Seed(names(20000, "Site %05d")...)
	for _, q := range []string{
		"?$select=id,displayName",
		"?$select=id,displayName&$filter=" + url.QueryEscape("displayName eq 'site 12345'"),
	} {
		b.Run(q, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resp, err := e.srv.Client().Get(e.coll + q)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
