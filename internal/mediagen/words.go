package mediagen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

// The word lists behind the text generators. Names are a mix of scripts
// and accents, and some lines carry <, > and & on purpose, so that the
// archive's encoders and indexers meet the characters that break naive
// code.

var firstNames = []string{
	"Amelia", "José", "Zoë", "Noah", "Priya", "Björn", "Fatima", "Liam", "Chen", "Hannah",
	"Mateo", "Aisha", "Søren", "Inês", "Olivia", "Kenji", "Chloé", "Tomasz", "Grace", "Yusuf",
}

var lastNames = []string{
	"Smith", "Núñez", "Müller", "Okafor", "Kowalski", "Tanaka", "Patel", "O'Brien", "García", "Johansson",
	"Nguyen", "Dubois", "Rossi", "Andersen", "Cohen", "Kim", "Fischer", "Silva", "Murphy", "Dąbrowska",
}

var agentNames = []string{"Alex", "Sam", "Jordan", "Maria", "Dev", "Lena", "Omar", "Ruth", "Felix", "Nadia"}

var carriers = []string{"UPS", "DHL", "FedEx", "Royal Mail", "PostNL"}

// customerDomains are reserved for examples (RFC 2606), so that demo
// addresses can never reach a real mailbox.
var customerDomains = []string{"example.com", "example.net", "example.org"}

// supportDomain is the demo contact centre's own domain.
const supportDomain = "support.example.com"

type person struct {
	First, Last string
}

func (p person) Name() string { return p.First + " " + p.Last }

// email is a plausible address for the person at one of the example
// domains, reduced to ASCII.
func (p person) email(domain string) string {
	return asciiLower(p.First) + "." + asciiLower(p.Last) + "@" + domain
}

func randomPerson(rng *rand.Rand) person {
	return person{pick(rng, firstNames), pick(rng, lastNames)}
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// fold maps the accented letters of the name lists to their base letter.
var fold = map[rune]rune{
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e', 'á': 'a', 'à': 'a', 'ã': 'a', 'ä': 'a', 'ą': 'a',
	'ó': 'o', 'ô': 'o', 'ö': 'o', 'ø': 'o', 'ú': 'u', 'ü': 'u', 'ñ': 'n', 'í': 'i', 'ç': 'c',
}

// asciiLower lower-cases s and keeps only a-z and 0-9, folding the
// accented letters of the name lists to their base letter.
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if f, ok := fold[r]; ok {
			r = f
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A step is one message of a scripted conversation: who says it and
// ways of saying it. Slots in braces are filled from a case.
type step struct {
	agent bool
	say   []string
}

// A theme is one of the reasons customers contact the centre.
type theme struct {
	topic    string
	subjects []string // email subjects, some of them not ASCII
	script   []step
	reply    []string // an agent's answer by email
}

var greetings = []string{
	"Hi {first}, I'm {agent}. Sorry to hear that, let me look into it.",
	"Thanks for reaching out, {first}! My name is {agent} and I'll be helping you today.",
	"Hello {first}, {agent} here. I'll check that for you right away.",
}

var closings = []string{
	"You're welcome! Is there anything else I can help you with?",
	"Glad I could help. Have a great day!",
	"Happy to help, {first}. Your reference is {ticket} if you need us again.",
}

var themes = []theme{
	{
		topic:    "Billing question",
		subjects: []string{"Double charge on order {order}", "Rückerstattung für Bestellung {order}", "Question about my bill"},
		reply: []string{
			"I'm sorry you were charged twice for order {order}. The second payment of {amount} has been refunded and should appear on your statement within 3-5 business days.\n\nYour reference is {ticket}.",
			"Thank you for letting us know. I found the duplicate charge of {amount} from {date} and have issued a refund; you will see it on the card ending {last4} within a week.",
		},
		script: []step{
			{false, []string{
				"Hi, I was charged twice for order {order}.",
				"Hello, there are two charges of {amount} on my card for the same order ({order}).",
				"My statement shows {amount} taken twice on {date}. Can you check?",
			}},
			{true, greetings},
			{true, []string{"Could you confirm the last four digits of the card you used?", "Can you tell me the last 4 digits of the card, please?"}},
			{false, []string{"It ends in {last4}.", "{last4}", "Card ending {last4}."}},
			{true, []string{
				"Thanks. I can see the duplicate charge of {amount} from {date}. I've requested a refund; it should appear within 3-5 business days.",
				"Found it: the second payment of {amount} failed to cancel. The refund is on its way and takes 3 to 5 working days.",
			}},
			{false, []string{"Great, thank you! Will I get an email confirmation?", "Thanks <3 & will I get something in writing?"}},
			{true, []string{"Yes, a confirmation will go to {email} shortly. Reference: {ticket}."}},
			{false, []string{"Perfect, thanks for your help.", "That's all, thanks!"}},
			{true, closings},
		},
	},
	{
		topic:    "Password reset",
		subjects: []string{"Password reset link not working", "Can't log in", "Réinitialisation du mot de passe"},
		reply: []string{
			"I've unlocked your account and sent a new reset link to {email}. It is valid for 30 minutes; the new password needs at least 12 characters, a number and a symbol such as # or &.",
			"The earlier link expired after 30 minutes. A fresh one is on its way to {email}. If it doesn't arrive, please check your spam folder or reply to this message quoting {ticket}.",
		},
		script: []step{
			{false, []string{
				"I can't log in to my account, the reset link says it has expired.",
				"Hi, I forgot my password and the reset email never arrived.",
				"Locked out again... the site says \"too many attempts\".",
			}},
			{true, greetings},
			{true, []string{"Can you confirm the email address on the account?", "Which email address is the account registered with?"}},
			{false, []string{"It's {email}.", "{email}"}},
			{true, []string{
				"Thanks. I've sent a new reset link to {email}; it's valid for 30 minutes.",
				"I've unlocked the account and sent a fresh reset link to {email}. It expires in 30 minutes.",
			}},
			{false, []string{"Got it, the link works now. Does the new password need special characters?"}},
			{true, []string{"Yes: at least 12 characters, with a number and a symbol such as # or &."}},
			{false, []string{"Done, I'm in. Thanks!", "Changed it, all good now."}},
			{true, closings},
		},
	},
	{
		topic:    "Delivery status",
		subjects: []string{"Where is my order {order}?", "Lieferstatus – Bestellung {order}", "注文 {order} の配送状況について"},
		reply: []string{
			"Your order {order} is with {carrier} under tracking number {tracking}. It was held at the depot and is now out for delivery.",
			"I checked with {carrier}: parcel {tracking} missed a connection and should arrive tomorrow. If it hasn't arrived by {due}, let us know and we'll send a replacement at no charge.",
		},
		script: []step{
			{false, []string{
				"Where is my order {order}? It was supposed to arrive on {date}.",
				"Hi, my parcel ({order}) still hasn't arrived and the tracking hasn't changed for days.",
			}},
			{true, greetings},
			{true, []string{"Let me check the tracking for {order}.", "One moment while I pull up {order}."}},
			{true, []string{
				"It's with {carrier}, tracking number {tracking}. It was held at the depot and is now out for delivery.",
				"{carrier} has it under {tracking}: it missed a connection and is due to arrive tomorrow.",
			}},
			{false, []string{"Will it come today? I need it before the weekend.", "OK. What if it doesn't turn up?"}},
			{true, []string{"If it hasn't arrived by {due}, reply here and I'll send a replacement at no charge."}},
			{false, []string{"OK, thanks for checking.", "Fine, thank you."}},
			{true, closings},
		},
	},
	{
		topic:    "Change of plan",
		subjects: []string{"Downgrade my subscription", "Plan change request", "Änderung meines Tarifs"},
		reply: []string{
			"As requested, I've moved you to the Basic plan from today. The difference from your {amount} monthly charge will be credited to your next bill.",
			"Your plan change is done. Basic starts today, and the unused part of this month's {amount} appears as a credit on your next invoice (reference {ticket}).",
		},
		script: []step{
			{false, []string{
				"I'd like to downgrade my plan to Basic; the <Premium> features aren't worth it for me.",
				"Can I switch to a cheaper plan? I'm paying {amount} a month & barely use it.",
			}},
			{true, greetings},
			{true, []string{"I can help with that. Your current plan renews on {due} at {amount} per month."}},
			{false, []string{"Can the change take effect before then?", "Do I have to wait until the renewal?"}},
			{true, []string{"No need to wait. I've switched you to Basic from today; the difference will be credited to your next bill."}},
			{false, []string{"Thanks, that's exactly what I needed.", "Great, appreciated."}},
			{true, closings},
		},
	},
}

// A caseFile holds the facts of one customer contact, used to fill the
// slots of a theme's lines.
type caseFile struct {
	theme    theme
	customer person
	agent    string
	domain   string
	slots    *strings.Replacer
}

func newCase(rng *rand.Rand, when time.Time) caseFile {
	c := caseFile{
		theme:    pick(rng, themes),
		customer: randomPerson(rng),
		agent:    pick(rng, agentNames),
		domain:   pick(rng, customerDomains),
	}
	c.slots = strings.NewReplacer(
		"{first}", c.customer.First,
		"{agent}", c.agent,
		"{order}", fmt.Sprintf("#%d", 100000+rng.IntN(900000)),
		"{amount}", fmt.Sprintf("$%d.%02d", 9+rng.IntN(140), rng.IntN(100)),
		"{last4}", fmt.Sprintf("%04d", rng.IntN(10000)),
		"{date}", when.AddDate(0, 0, -1-rng.IntN(10)).Format("Jan 2"), // a day in the recent past
		"{due}", when.AddDate(0, 0, 1+rng.IntN(5)).Format("Jan 2"), // a day in the near future
		"{email}", c.customer.email(c.domain),
		"{ticket}", fmt.Sprintf("CS-%06d", rng.IntN(1000000)),
		"{carrier}", pick(rng, carriers),
		"{tracking}", fmt.Sprintf("1Z%04X%08d", rng.IntN(0x10000), rng.IntN(100000000)),
	)
	return c
}

func (c caseFile) fill(s string) string { return c.slots.Replace(s) }

// lines runs the theme's script, choosing one wording for each step.
func (c caseFile) lines(rng *rand.Rand) []step {
	out := make([]step, len(c.theme.script))
	for k, st := range c.theme.script {
		out[k] = step{agent: st.agent, say: []string{c.fill(pick(rng, st.say))}}
	}
	return out
}
