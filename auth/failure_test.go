package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAuthorityFailuresAreNotRefusals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String() + "/"
	ln.Close()
	cases := []struct {
		name       string
		failWith   int    // status of the token endpoint; 0 for the closed port
		wantStatus int    // AuthorityError.Status
		wantReqs   int    // token requests the authority saw
		says       string // in the message
		within     time.Duration
	}{
		{"500 with an AADSTS code", 500, 500, 4, "the sign-in authority answered HTTP 500 (AADSTS50000: There was an error issuing a token.); try again later", time.Minute},
		{"connection refused", 0, 0, 0, "cannot reach the sign-in authority https://" + ln.Addr().String() + ": connection refused", 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newFakeAuthority(t)
			a.failWith = c.failWith
			env := secretEnv(a, a.secret)
			if c.failWith == 0 {
				env[EnvAuthorityHost] = closed
			}
			ts := newSource(t, a, Options{Getenv: envOf(env)})
			began := time.Now()
			_, err := ts.Token(context.Background(), false)
			var ae *AuthorityError
			if !errors.As(err, &ae) || ae.Status != c.wantStatus {
				t.Fatalf("Token = %v, want an *AuthorityError with status %d", err, c.wantStatus)
			}
			if IsAuthFailure(err) || errors.Is(err, ErrNoCredentials) {
				t.Errorf("%v is taken as a refusal", err)
			}
			var r interface{ SignInRefused() bool }
			if errors.As(err, &r) && r.SignInRefused() {
				t.Errorf("%v says the sign-in was refused", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.says) || strings.ContainsAny(msg, "\n\r\x1b\a") || strings.Contains(msg, "Trace ID") {
				t.Errorf("message %q: want one clean line saying %q", msg, c.says)
			}
			if n := len(a.tokenRequests()); n != c.wantReqs {
				t.Errorf("the token endpoint saw %d requests, want %d", n, c.wantReqs)
			}
			if took := time.Since(began); took > c.within {
				t.Errorf("took %v, want under %v", took, c.within)
			}
		})
	}
}

func TestRefusalsStillStopTheRun(t *testing.T) {
	a := newFakeAuthority(t)
	ts := newSource(t, a, Options{Getenv: envOf(secretEnv(a, "wrong-secret"))})
	_, err := ts.Token(context.Background(), false)
	var r interface{ SignInRefused() bool }
	if !IsAuthFailure(err) || !errors.As(err, &r) || !r.SignInRefused() {
		t.Fatalf("Token = %v, want a refusal", err)
	}
	if nc := (&NoCredentialsError{}); !nc.SignInRefused() {
		t.Error("a missing sign-in method does not stop the run")
	}
}

func TestRetryAuthority(t *testing.T) {
	cases := []struct {
		name   string
		status int
		err    error
		want   bool
	}{
		{"500", 500, nil, true},
		{"502", 502, nil, true},
		{"503", 503, nil, true},
		{"504", 504, nil, true},
		{"429", 429, nil, true},
		{"408", 408, nil, true},
		{"400", 400, nil, false},
		{"401", 401, nil, false},
		{"name does not resolve", 0, &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, false},
		{"connection refused", 0, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, false},
		{"certificate", 0, errors.New(`Get "https://x": tls: failed to verify certificate: x509: certificate signed by unknown authority`), false},
		{"connection reset", 0, errors.New("read tcp: connection reset by peer"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp *http.Response
			if c.err == nil {
				resp = &http.Response{StatusCode: c.status}
			}
			if got := retryAuthority(resp, c.err); got != c.want {
				t.Errorf("retryAuthority = %v, want %v", got, c.want)
			}
		})
	}
}
