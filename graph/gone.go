package graph

import "context"

// Gone reports whether the tenant no longer holds the profile id, by
// reading it: a 404 is gone, an answer is not, and any other error is
// returned.
func (c *Client) Gone(ctx context.Context, id string) (bool, error) {
	_, err := c.Get(ctx, id, "id")
	switch {
	case IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}
