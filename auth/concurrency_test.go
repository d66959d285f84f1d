package auth

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// blockingCred hands out numbered tokens; it holds every call until release is closed.
type blockingCred struct {
	calls   *atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (c blockingCred) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := c.calls.Add(1)
	c.entered <- struct{}{}
	select {
	case <-c.release:
	case <-ctx.Done():
		return azcore.AccessToken{}, ctx.Err()
	}
	return azcore.AccessToken{Token: fmt.Sprintf("token-%d", n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestConcurrentFreshRequestsShareOneFetch(t *testing.T) {
	const callers = 8
	calls := &atomic.Int32{}
	cred := blockingCred{calls: calls, entered: make(chan struct{}, callers+1), release: make(chan struct{})}
	s, err := newAzSource(srcEnv, "test", "https://graph.microsoft.com/.default", refreshRebuild,
		func() (azcore.TokenCredential, error) { return cred, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	results := make([]string, callers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); results[0], _ = s.Token(ctx, true) }()
	<-cred.entered // the first fresh fetch is in progress
	for i := 1; i < callers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], _ = s.Token(ctx, true) }()
	}
	// Release the fetch only when every other caller has joined it.
	for joined := 0; joined < callers-1; {
		s.mu.Lock()
		if s.flight != nil {
			joined = s.flight.waiters
		}
		s.mu.Unlock()
		if ctx.Err() != nil {
			t.Fatalf("only %d callers joined the fresh fetch", joined)
		}
		runtime.Gosched()
	}
	close(cred.release)
	wg.Wait()

	if n := calls.Load(); n != 1 {
		t.Errorf("credential asked %d times, want 1", n)
	}
	for i, r := range results {
		if r != results[0] || r == "" {
			t.Errorf("caller %d got %q, caller 0 got %q", i, r, results[0])
		}
	}
	// A later fresh request fetches again.
	if tok, err := s.Token(ctx, true); err != nil || tok == results[0] {
		t.Errorf("next fresh token %q, %v; want a new one", tok, err)
	}
}
