package graph

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

func TestOrganizationName(t *testing.T) {
	s := sim.New(sim.Options{Organization: "Contoso Retail"})
	hs := httptest.NewServer(s)
	defer hs.Close()
	c := &Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
	name, err := c.OrganizationName(context.Background())
	if err != nil || name != "Contoso Retail" {
		t.Errorf("OrganizationName = %q, %v", name, err)
	}
	denied := sim.New(sim.Options{Granted: []string{"DeviceManagementConfiguration.ReadWrite.All"}})
	hd := httptest.NewServer(denied)
	defer hd.Close()
	c = &Client{BaseURL: hd.URL + "/beta", HTTP: hd.Client()}
	if _, err := c.OrganizationName(context.Background()); err == nil {
		t.Error("read the organization without its permission")
	}
}
