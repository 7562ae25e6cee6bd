package httpapi

import "example.com/icrec/icws"

// features lists each ICWS feature icrec serves, at the highest version
// whose every endpoint it implements as a real server would answer it
// (TestFeatureVersions holds icrec to this). connection 11: login (icAuth
// and unique auth token), include blocks, server-info/-time,
// switchover-status; single sign-on is absent, and server-info says so by
// listing no identity providers. messaging 2: short polling and
// server-sent events. recordings 6: export-uri, attributes and
// send-as-email (one and many) of version 2, media-details and
// retention-expiration of 6, and tags, playback-uri and station audio,
// whose versions are unknown. Send-as-email without a mail server is 410,
// as a call the configuration removed: the call exists either way, so the
// version does not change with the configuration.
var features = []icws.FeatureInfo{
	{FeatureID: "connection", Version: 11},
	{FeatureID: "messaging", Version: 2},
	{FeatureID: "recordings", Version: 6},
}
