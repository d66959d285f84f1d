package graph

import (
	"context"
	"fmt"
)

// OrganizationPath is the tenant's organization.
const OrganizationPath = "/organization"

// OrganizationName returns the tenant's name as the Microsoft Entra admin
// center shows it (the organization's displayName), for the QR sheet's
// header: the sheets of several tenants look alike otherwise. Reading it
// needs Organization.Read.All (or User.Read when a person signs in); the
// caller falls back to the tenant's id when it cannot.
func (c *Client) OrganizationName(ctx context.Context) (string, error) {
	orgs, err := listCollection[struct {
		DisplayName string `json:"displayName"`
	}](ctx, c, "organization", OrganizationPath+query([]string{"displayName"}, ""))
	if err != nil {
		return "", err
	}
	if len(orgs) == 0 || orgs[0].DisplayName == "" {
		return "", fmt.Errorf("read organization: no name in the answer")
	}
	return orgs[0].DisplayName, nil
}
