package ratelimit

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Graph's limit for one app across all the tenants it works in: 130,000
// requests per 10 s (Microsoft Graph throttling limits, "Intune service
// limits" and the global limit per app). Each tenant's own budgets
// (IntuneWriteBudget, IntuneRequestBudget) are kept by its own Pacer; App
// keeps this one for a run that drives many tenants at once.
const (
	AppRequestBudget = 130000
	AppWindow        = 10 * time.Second
)

// App is the budget one app shares across all its tenants: a token bucket
// that never lets more than the budget leave in any window, however many
// tenants' pacers ask for it. It is safe for concurrent use.
type App struct{ l *rate.Limiter }

// NewApp returns the shared budget of requests per window, with headroom
// (a share, such as 0.03) left unused. A burst of a tenth of the budget is
// allowed, and the rate fills the rest of the window, so that no window
// holds more than budget×(1−headroom) requests.
func NewApp(requests int, window time.Duration, headroom float64) *App {
	n := float64(requests) * (1 - headroom)
	burst := int(n / 10)
	if burst < 1 {
		burst = 1
	}
	per := (n - float64(burst)) / window.Seconds()
	if per <= 0 {
		per = n / window.Seconds()
	}
	return &App{l: rate.NewLimiter(rate.Limit(per), burst)}
}

// Wait blocks until one more request may leave, or ctx ends.
func (a *App) Wait(ctx context.Context) error {
	if a == nil {
		return nil
	}
	return a.l.Wait(ctx)
}
