package server

import "github.com/danielgtaylor/huma/v2"

// htmlPage documents an operation that answers with a small HTML page
// (for people without the apps, such as emergency contacts): the page, or
// a page saying the link is not valid (404) or has expired (410).
func htmlPage(o huma.Operation) huma.Operation {
	page := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{"text/html": {Schema: &huma.Schema{Type: "string"}}}}
	}
	o.Responses = map[string]*huma.Response{"200": page("The page"), "404": page("The link is not valid or was used"), "410": page("The link has expired (an invitation link's page still offers the contact its \"No\" button)")}
	return o
}
