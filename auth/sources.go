package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// staticSource serves GRAPH_ACCESS_TOKEN. It cannot renew the token.
type staticSource struct {
	token   string
	expires time.Time // from the token's exp claim when it is a JWT; zero otherwise
	now     func() time.Time
}

func newStaticSource(tok string) *staticSource {
	return &staticSource{token: tok, expires: jwtExpiry(tok), now: time.Now}
}

const staticHint = "provide a new token in GRAPH_ACCESS_TOKEN, or unset it to sign in another way"

// Token returns the token. A fresh token cannot be made, and a token known to have expired is not handed out:
// both are reported as a rejected sign-in.
func (s *staticSource) Token(_ context.Context, fresh bool) (string, error) {
	if fresh {
		return "", &AuthError{Source: s.Describe(), Reason: "Microsoft Graph rejected the token, and a static token cannot be renewed", Hint: staticHint}
	}
	if !s.expires.IsZero() && !s.now().Before(s.expires) {
		return "", &AuthError{Source: s.Describe(), Reason: "the token expired at " + s.expires.Format(time.RFC3339), Hint: staticHint}
	}
	return s.token, nil
}

// Describe names the variable and, for a JWT, its expiry.
func (s *staticSource) Describe() string {
	if s.expires.IsZero() {
		return srcToken
	}
	return srcToken + " (expires " + s.expires.Format(time.RFC3339) + ")"
}

// jwtExpiry reads the exp claim of a JWT without verifying it; zero when tok is not a JWT.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(claims.Exp), 0).UTC()
}

// refresh says how an azSource makes a token that is not from a cache.
type refresh int

const (
	// refreshRebuild makes a new credential: its in-memory token cache starts empty.
	refreshRebuild refresh = iota
	// refreshClaims asks with claims, which makes MSAL skip its cache (managed identity).
	refreshClaims
	// refreshCached: the credential does not cache; the source does, and a fresh call skips that cache (Azure CLI).
	refreshCached
)

// renewBefore is how long before expiry a cached token is renewed; azidentity uses the same margin.
const renewBefore = 5 * time.Minute

// azSource serves tokens from an azidentity credential.
type azSource struct {
	name, desc, scope string
	how               refresh
	newCred           func() (azcore.TokenCredential, error)
	now               func() time.Time

	fetchMu sync.Mutex // refreshCached: serializes cache misses
	mu      sync.Mutex
	cred    azcore.TokenCredential
	cached  azcore.AccessToken // refreshCached only
	flight  *flight            // the fresh fetch in progress, if any
}

// flight is one fresh fetch that concurrent callers share.
type flight struct {
	done    chan struct{}
	waiters int // callers sharing the fetch besides the one that started it
	token   string
	err     error
}

func newAzSource(name, desc, scope string, how refresh, newCred func() (azcore.TokenCredential, error)) (*azSource, error) {
	cred, err := newCred()
	if err != nil {
		return nil, err
	}
	return &azSource{name: name, desc: desc, scope: scope, how: how, newCred: newCred, cred: cred, now: time.Now}, nil
}

// Describe names the method and its identifiers.
func (s *azSource) Describe() string { return s.desc }

// Token returns a cached or fresh token; see TokenSource.
func (s *azSource) Token(ctx context.Context, fresh bool) (string, error) {
	if fresh {
		return s.fresh(ctx)
	}
	if s.how == refreshCached {
		// One caller runs az at a time; the others then find its token in the cache.
		s.fetchMu.Lock()
		defer s.fetchMu.Unlock()
	}
	s.mu.Lock()
	cred := s.cred
	if s.how == refreshCached && s.cached.Token != "" && s.now().Add(renewBefore).Before(s.cached.ExpiresOn) {
		tok := s.cached.Token
		s.mu.Unlock()
		return tok, nil
	}
	s.mu.Unlock()
	at, err := cred.GetToken(ctx, tokenRequest(s.scope))
	if err != nil {
		return "", classify(s.desc, s.name, err)
	}
	s.remember(cred, at)
	return at.Token, nil
}

// fresh fetches a token that comes from no cache of this process. Callers that arrive while a fresh fetch is in
// progress share its result, so a burst of 401s costs one token request.
func (s *azSource) fresh(ctx context.Context) (string, error) {
	s.mu.Lock()
	if f := s.flight; f != nil {
		f.waiters++
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.token, f.err
		case <-ctx.Done():
			return "", fmt.Errorf("get token (%s): %w", s.desc, ctx.Err())
		}
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	cred := s.cred
	s.mu.Unlock()

	f.token, f.err = s.fetchFresh(ctx, cred)

	s.mu.Lock()
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
	return f.token, f.err
}

func (s *azSource) fetchFresh(ctx context.Context, cred azcore.TokenCredential) (string, error) {
	req := tokenRequest(s.scope)
	switch s.how {
	case refreshRebuild:
		c, err := s.newCred()
		if err != nil {
			return "", fmt.Errorf("get token (%s): %w", s.desc, err)
		}
		cred = c
	case refreshClaims:
		// A claims request bypasses the cache; the claims mirror a CAE challenge asking for a token issued now.
		req.Claims = fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, s.now().Unix())
	}
	at, err := cred.GetToken(ctx, req)
	if err != nil {
		return "", classify(s.desc, s.name, err)
	}
	s.remember(cred, at)
	return at.Token, nil
}

// remember makes cred the credential for later calls (a rebuilt one holds the fresh token in its cache) and keeps
// the token when the source caches itself.
func (s *azSource) remember(cred azcore.TokenCredential, at azcore.AccessToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cred = cred
	if s.how == refreshCached {
		s.cached = at
	}
}
