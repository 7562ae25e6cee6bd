package httpapi

import "example.com/icrec/icws"

// features lists each ICWS feature icrec serves, at the highest version
// whose every endpoint it implements as a real server would answer it.
// connection 11: login (icAuth and unique auth token), include blocks,
// server-info/-time, switchover-status; single sign-on is absent, and
// server-info says so by listing no identity providers. messaging 2: short
// polling and server-sent events. recordings 2: export-uri and attributes
// (send-as-email, the rest of version 2, follows with the mail feature).
var features = []icws.FeatureInfo{
	{FeatureID: "connection", Version: 11},
	{FeatureID: "messaging", Version: 2},
	{FeatureID: "recordings", Version: 2},
}
