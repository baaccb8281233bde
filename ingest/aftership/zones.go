package aftership

import (
	"strings"
	"time"
	_ "time/tzdata" // zone rules travel with the binary: results must not depend on the host's zoneinfo
)

// AfterShip documents checkpoint_time as "the date and time of the checkpoint
// event, provided by the carrier. It uses the timezone of the checkpoint",
// written as YYYY-MM-DDTHH:mm:ss (no offset) or YYYY-MM-DDTHH:mm:ssZ. A time
// without an offset is the checkpoint's local wall clock, not UTC: USPS
// checkpoints, for one, arrive that way. Reading them as UTC would shift US
// scans by four to ten hours and ruin the tracking-latency measure (target:
// minutes), so the zone is taken from the checkpoint's location:
//
//   - a country with one time zone (or one that covers nearly everyone, noted
//     below) gives it directly;
//   - the United States, Canada and Australia need the state or province
//     code; when AfterShip leaves state empty, a single US state code written
//     as a word of the location (USPS facility names such as "WEST PALM BEACH
//     FL DISTRIBUTION CENTER") is used;
//   - otherwise the checkpoint cannot be placed in time and the webhook is
//     refused as unsupported (dead-lettered with the reason, replayable once
//     the table below learns the place) rather than guessed.
//
// States split between two zones map to the zone most of their people use
// (e.g. FL to Eastern, TX to Central); a scan in the minority part is off by
// one hour.

// countryZones maps ISO 3166-1 alpha-3 codes of countries with a single zone
// in practice. ESP, PRT and CHL also have island zones (Canaries, Azores,
// Easter Island) an hour or more off the mainland's.
var countryZones = map[string]string{
	"ARE": "Asia/Dubai", "ARG": "America/Argentina/Buenos_Aires", "AUT": "Europe/Vienna",
	"BEL": "Europe/Brussels", "BGD": "Asia/Dhaka", "BGR": "Europe/Sofia", "CHE": "Europe/Zurich",
	"CHL": "America/Santiago", "CHN": "Asia/Shanghai", "COL": "America/Bogota", "CRI": "America/Costa_Rica",
	"CZE": "Europe/Prague", "DEU": "Europe/Berlin", "DNK": "Europe/Copenhagen", "DOM": "America/Santo_Domingo",
	"EGY": "Africa/Cairo", "ESP": "Europe/Madrid", "EST": "Europe/Tallinn", "FIN": "Europe/Helsinki",
	"FRA": "Europe/Paris", "GBR": "Europe/London", "GRC": "Europe/Athens", "GTM": "America/Guatemala",
	"HKG": "Asia/Hong_Kong", "HRV": "Europe/Zagreb", "HUN": "Europe/Budapest", "IND": "Asia/Kolkata",
	"IRL": "Europe/Dublin", "ISL": "Atlantic/Reykjavik", "ISR": "Asia/Jerusalem", "ITA": "Europe/Rome",
	"JAM": "America/Jamaica", "JPN": "Asia/Tokyo", "KEN": "Africa/Nairobi", "KHM": "Asia/Phnom_Penh",
	"KOR": "Asia/Seoul", "LKA": "Asia/Colombo", "LTU": "Europe/Vilnius", "LUX": "Europe/Luxembourg",
	"LVA": "Europe/Riga", "MAC": "Asia/Macau", "MAR": "Africa/Casablanca", "MYS": "Asia/Kuala_Lumpur",
	"NGA": "Africa/Lagos", "NLD": "Europe/Amsterdam", "NOR": "Europe/Oslo", "NZL": "Pacific/Auckland",
	"PAK": "Asia/Karachi", "PAN": "America/Panama", "PER": "America/Lima", "PHL": "Asia/Manila",
	"POL": "Europe/Warsaw", "PRI": "America/Puerto_Rico", "PRT": "Europe/Lisbon", "PRY": "America/Asuncion",
	"QAT": "Asia/Qatar", "ROU": "Europe/Bucharest", "SAU": "Asia/Riyadh", "SGP": "Asia/Singapore",
	"SVK": "Europe/Bratislava", "SVN": "Europe/Ljubljana", "SWE": "Europe/Stockholm", "THA": "Asia/Bangkok",
	"TUR": "Europe/Istanbul", "TWN": "Asia/Taipei", "UKR": "Europe/Kyiv", "URY": "America/Montevideo",
	"VNM": "Asia/Ho_Chi_Minh", "ZAF": "Africa/Johannesburg",
}

// stateZones maps the state or province codes of the multi-zone countries
// baton can place.
var stateZones = map[string]map[string]string{
	"USA": {
		"AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
		"CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York", "DC": "America/New_York",
		"DE": "America/New_York", "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
		"IA": "America/Chicago", "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
		"KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago", "MA": "America/New_York",
		"MD": "America/New_York", "ME": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
		"MO": "America/Chicago", "MS": "America/Chicago", "MT": "America/Denver", "NC": "America/New_York",
		"ND": "America/Chicago", "NE": "America/Chicago", "NH": "America/New_York", "NJ": "America/New_York",
		"NM": "America/Denver", "NV": "America/Los_Angeles", "NY": "America/New_York", "OH": "America/New_York",
		"OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York", "RI": "America/New_York",
		"SC": "America/New_York", "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
		"UT": "America/Denver", "VA": "America/New_York", "VT": "America/New_York", "WA": "America/Los_Angeles",
		"WI": "America/Chicago", "WV": "America/New_York", "WY": "America/Denver", "PR": "America/Puerto_Rico",
		"GU": "Pacific/Guam", "VI": "America/St_Thomas",
	},
	"CAN": {
		"AB": "America/Edmonton", "BC": "America/Vancouver", "MB": "America/Winnipeg", "NB": "America/Moncton",
		"NL": "America/St_Johns", "NS": "America/Halifax", "NT": "America/Yellowknife", "NU": "America/Iqaluit",
		"ON": "America/Toronto", "PE": "America/Halifax", "QC": "America/Toronto", "SK": "America/Regina",
		"YT": "America/Whitehorse",
	},
	"AUS": {
		"ACT": "Australia/Sydney", "NSW": "Australia/Sydney", "NT": "Australia/Darwin", "QLD": "Australia/Brisbane",
		"SA": "Australia/Adelaide", "TAS": "Australia/Hobart", "VIC": "Australia/Melbourne", "WA": "Australia/Perth",
	},
}

// place is what a checkpoint says about where it happened.
type place struct {
	country string // ISO alpha-3
	state   string
	// words are free text (location, city) searched for a US state code
	// when state is empty.
	words []string
}

// zone returns the time zone of a place, or nil when the place does not
// determine one.
func (p place) zone() *time.Location {
	country := strings.ToUpper(strings.TrimSpace(p.country))
	name := countryZones[country]
	if states, ok := stateZones[country]; ok {
		state := strings.ToUpper(strings.TrimSpace(p.state))
		if state == "" && country == "USA" {
			state = usStateWord(p.words)
		}
		name = states[state]
	}
	if name == "" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil // unreachable with the embedded tzdata; refuse rather than guess
	}
	return loc
}

// usStateWord finds the one US state code written as a word in texts, or
// "" when there is none or more than one (an ambiguous place is not placed).
func usStateWord(texts []string) string {
	found := ""
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(strings.ToUpper(t), func(r rune) bool {
			return !(r >= 'A' && r <= 'Z')
		}) {
			if _, ok := stateZones["USA"][w]; !ok {
				continue
			}
			if found != "" && found != w {
				return ""
			}
			found = w
		}
	}
	return found
}
