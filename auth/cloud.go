package auth

import (
	"fmt"
	"net/url"
	"strings"
)

// Cloud is a national cloud: the Graph base URL and the Microsoft Entra authority host that signs tokens for it
// belong together.
type Cloud struct {
	// Name is the value of --cloud, e.g. "usgov".
	Name string
	// GraphURL is the Graph beta base URL of the cloud, without a trailing slash.
	GraphURL string
	// AuthorityHost is the Microsoft Entra authority host of the cloud, with a trailing slash.
	AuthorityHost string
}

// clouds lists the national clouds in the order they are shown to people.
var clouds = []Cloud{
	{Name: "public", GraphURL: "https://graph.microsoft.com/beta", AuthorityHost: "https://login.microsoftonline.com/"},
	{Name: "usgov", GraphURL: "https://graph.microsoft.us/beta", AuthorityHost: "https://login.microsoftonline.us/"},
	{Name: "usgovdod", GraphURL: "https://dod-graph.microsoft.us/beta", AuthorityHost: "https://login.microsoftonline.us/"},
	{Name: "china", GraphURL: "https://microsoftgraph.chinacloudapi.cn/beta", AuthorityHost: "https://login.chinacloudapi.cn/"},
}

// DefaultCloud is the cloud used when none is named: the global Azure cloud.
const DefaultCloud = "public"

// Clouds returns the national clouds this tool knows, public first.
func Clouds() []Cloud {
	return append([]Cloud(nil), clouds...)
}

// CloudNames returns the valid --cloud values, public first.
func CloudNames() []string {
	names := make([]string, len(clouds))
	for i, c := range clouds {
		names[i] = c.Name
	}
	return names
}

// LookupCloud returns the cloud with the given name (case-insensitive; empty means public). The error lists the
// valid names.
func LookupCloud(name string) (Cloud, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = DefaultCloud
	}
	for _, c := range clouds {
		if c.Name == n {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q: use one of %s", name, strings.Join(CloudNames(), ", "))
}

// publicAuthorityHosts are the authority hosts Microsoft Entra instance discovery knows. Any other host (Azure Stack,
// a test authority) is used with instance discovery disabled.
var publicAuthorityHosts = map[string]bool{
	"login.microsoftonline.com": true,
	"login.microsoftonline.us":  true,
	"login.chinacloudapi.cn":    true,
}

// Scope returns the OAuth scope for the Graph service at graphURL: "https://<graph host>/.default". The scope
// always follows the Graph host, so a token for one cloud is never requested for another.
func Scope(graphURL string) (string, error) {
	host, err := graphHost(graphURL)
	if err != nil {
		return "", err
	}
	return "https://" + host + "/.default", nil
}

// graphHost returns the lower-cased host (with port, if any) of a Graph base URL.
func graphHost(graphURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(graphURL))
	if err != nil {
		return "", fmt.Errorf("graph URL %q: %w", graphURL, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("graph URL %q is not an absolute http(s) URL (e.g. %s)", graphURL, clouds[0].GraphURL)
	}
	return strings.ToLower(u.Host), nil
}

// normalizeAuthorityHost checks that host is an https URL and returns it with a trailing slash, together with
// whether instance discovery must be disabled for it.
func normalizeAuthorityHost(host string) (string, bool, error) {
	u, err := url.Parse(strings.TrimSpace(host))
	if err != nil {
		return "", false, fmt.Errorf("authority host %q: %w", host, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("authority host %q must be an https URL such as %s", host, clouds[0].AuthorityHost)
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, !publicAuthorityHosts[strings.ToLower(u.Hostname())], nil
}

// authorityForGraph returns the authority host of the known cloud whose Graph host is host, or the public one.
func authorityForGraph(host string) string {
	for _, c := range clouds {
		if h, err := graphHost(c.GraphURL); err == nil && h == host {
			return c.AuthorityHost
		}
	}
	return clouds[0].AuthorityHost
}
