package promote

import (
	"time"

	"github.com/promote-dev/promote/promote/ledger"
)

// TimelineEvent is one promotion or rollback of a report's timeline.
type TimelineEvent struct {
	Time   time.Time   `json:"time"`
	Kind   ledger.Kind `json:"kind"`
	Digest string      `json:"digest"`
	Tags   []string    `json:"tags,omitempty"`
	By     string      `json:"by,omitempty"`
	Reason string      `json:"reason,omitempty"`
	Record string      `json:"record"`
}

// maxTimeline bounds a timeline's events.
const maxTimeline = 50

// timeline is the promotions and rollbacks of app in env in recs (the
// ledger's, newest first) since since.
func timeline(recs []ledger.Record, app, env string, since time.Time) []TimelineEvent {
	out := []TimelineEvent{}
	for _, r := range recs {
		if r.App != app || r.Env != env || r.Time.Before(since) || r.Kind != ledger.KindPromotion && r.Kind != ledger.KindRollback {
			continue
		}
		out = append(out, TimelineEvent{Time: r.Time.UTC(), Kind: r.Kind, Digest: r.Digest, Tags: r.Tags, By: actorName(r.Actor), Reason: r.Reason, Record: r.ID})
		if len(out) == maxTimeline {
			break
		}
	}
	return out
}
