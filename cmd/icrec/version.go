package main

import (
	"runtime"
	"runtime/debug"
	"strings"

	"example.com/icrec/icws"
)

// version is icrec's release. It is reported by icrec version and by GET
// /icws/connection/version.
const version = "0.1.0"

// revision is the VCS revision the binary was built from, or "dev".
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return "dev"
}

func versionString() string {
	return "icrec " + version + " (" + revision() + ", " + runtime.Version() + ")"
}

// icwsVersion is the versionInfo icrec reports. Fields are strings, as
// ICWS sends them; the numbers are icrec's own release, not a CIC release,
// since clients decide what to call by features, not versions.
func icwsVersion() icws.VersionInfo {
	major, rest, _ := strings.Cut(version, ".")
	minor, su, _ := strings.Cut(rest, ".")
	return icws.VersionInfo{
		MajorVersion:                major,
		MinorVersion:                minor,
		SU:                          su,
		Build:                       revision(),
		ProductID:                   "icrec",
		CodebaseID:                  "icrec",
		ProductReleaseDisplayString: "icrec " + version,
	}
}
