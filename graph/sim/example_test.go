package sim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// A test serves the simulator over loopback HTTP and points the client's
// Graph URL at it; any mount point works, /beta mirrors the real service.
func Example() {
	s := sim.New(sim.Options{Limit: 2, OmitImage: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	graphURL := srv.URL + "/beta"

	s.Seed("Already There")
	for _, name := range []string{"Site 1", "Site 2", "Site 3"} {
		resp, err := http.Post(graphURL+profile.CollectionPath, "application/json",
			strings.NewReader(`{"displayName":"`+name+`"}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(name, resp.StatusCode, resp.Header.Get("Retry-After") != "")
	}
	st := s.Stats()
	fmt.Println("created", st.Created, "throttled", st.Throttled, "in tenant", len(s.Profiles()))
	// Output:
	// Site 1 201 false
	// Site 2 201 false
	// Site 3 429 true
	// created 2 throttled 1 in tenant 3
}
