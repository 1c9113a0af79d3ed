"""Generate the course's bundled text datasets: Fjordly's support tickets, knowledge base and Q&A.

Fjordly is a fictional company made up for this course: a team workspace app with four products
(Boards, Docs, Sync, API) and four plans (Free, Starter, Pro, Enterprise). Its tickets, documents
and policies run through the whole course: classify tickets (MiniLM), triage them as JSON (SFT,
DPO, GRPO), answer questions from the docs (RAG), evaluate all of it.

    python scripts/make_datasets.py                 # rewrite utils/airoadmap/datasets/*/*.jsonl
    python scripts/make_datasets.py --out /tmp/x    # write elsewhere (the tests compare bytes)

Deterministic byte for byte: only the standard library's ``random``, one fixed seed per dataset,
fixed template order, ``json.dumps`` with a fixed key order. A test re-runs it and compares with
the committed files, so edit this script, never the JSONL files, and re-run it.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20240601
OUT = Path(__file__).resolve().parents[1] / "utils" / "airoadmap" / "datasets"

CATEGORIES = ["billing", "bug", "account", "security", "feature_request", "how_to"]
PRIORITIES = ["low", "normal", "high", "urgent"]
PRICES = {"Starter": 6, "Pro": 12}  # USD per user per month, billed monthly
PAID = ["Starter", "Pro", "Enterprise"]

SYSTEM_PROMPT = (
    "You triage support tickets for Fjordly, a team workspace app (Boards, Docs, Sync, API). "
    "Answer with one JSON object and nothing else: "
    '{"category": ..., "priority": ..., "summary": ...}. '
    "category: one of billing, bug, account, security, feature_request, how_to. "
    "priority: urgent = service down, data lost or a security incident now; "
    "high = a customer is blocked, was charged wrongly or has a deadline; "
    "normal = a problem with a workaround or a routine request; "
    "low = questions, feedback and feature requests. "
    "summary: at most 12 words."
)

# ---------------------------------------------------------------------------------------------
# Tickets. Each template: (text, summary, allowed priorities). The last HELD_OUT templates of
# each category appear only in the test splits: phrasing a classifier has never seen.
# ---------------------------------------------------------------------------------------------
HELD_OUT = 3
TEMPLATES = {
    "billing": [
        ("I was charged twice for our {plan} subscription this month: two payments of ${amount} on the company card.",
         "Charged twice for {plan} subscription", ["high", "normal"]),
        ("Our card was declined and now the workspace says it will be downgraded to Free. I updated the card but "
         "the payment still shows as failed.",
         "Payment still failing after card update", ["high"]),
        ("Could you send an invoice for {month} with our VAT number {vat} on it? Our accountant won't accept it "
         "without.",
         "Needs {month} invoice with VAT number", ["normal"]),
        ("We bought the annual {plan} plan {days} days ago and it isn't working out for us. Can we get our money back?",
         "Refund request for annual {plan} plan", ["normal"]),
        ("We removed {k} users last week but this month's bill is still for {n} seats.",
         "Still billed for removed seats", ["normal", "high"]),
        ("Why did our bill go up? Last month we paid ${amount} and this month it's ${amount2}. Nobody changed "
         "anything.",
         "Unexpected increase in monthly bill", ["normal"]),
        ("I'd like to move our {plan} plan from monthly to yearly payments. Do we pay for the whole year today?",
         "Switch {plan} plan to annual billing", ["low", "normal"]),
        ("Please cancel our subscription at the end of the current period, we're moving to another tool.",
         "Cancel subscription at end of period", ["normal"]),
        ("The receipt for {month} shows the wrong company name. It should say {company}.",
         "Wrong company name on {month} receipt", ["normal", "low"]),
        ("I was charged ${amount} when my trial ended, but I cancelled the trial on day {day}.",
         "Charged after cancelling trial", ["high"]),
        ("I added {k} guests to a board and we got charged for them. I thought guests were free?",
         "Charged for guest users", ["normal"]),
        ("Procurement needs to pay for Enterprise by bank transfer against an invoice, not by card. Is that possible?",
         "Wants to pay Enterprise by bank transfer", ["normal"]),
        ("There's a charge of ${amount} from Fjordly on my personal card, but the workspace belongs to my employer.",
         "Workspace charged to wrong card", ["high", "normal"]),
        ("Our renewal is coming up in {month}. The new price is much higher, can we keep paying what we pay now?",
         "Asks to keep old price at renewal", ["low", "normal"]),
        ("We're a registered charity. Is there a discount on {plan}, and how do we apply for it?",
         "Asks about nonprofit discount", ["low"]),
    ],
    "bug": [
        ("Fjordly Boards shows '{err}' every time I open the {view} view.",
         "Boards error when opening {view} view", ["normal", "high"]),
        ("Since yesterday's update, Fjordly Sync on {os} crashes a few seconds after it starts.",
         "Sync crashes on {os} after update", ["high", "normal"]),
        ("Files I save in my Fjordly folder are not uploading. The icon has said 'syncing' for {hours} hours.",
         "Sync stuck, files not uploading", ["high", "normal"]),
        ("When I drag a card to another list in {browser}, it jumps straight back to where it was.",
         "Cards cannot be moved in {browser}", ["normal"]),
        ("Comments in Fjordly Docs disappear after I refresh the page.",
         "Docs comments disappear after refresh", ["normal", "high"]),
        ("The whole app is down for us, every page just says '{err}'.",
         "App down, every page shows an error", ["urgent"]),
        ("Our Slack integration stopped posting card updates on {weekday}. Nothing changed on our side.",
         "Slack integration stopped posting", ["normal"]),
        ("The API has returned 500 errors on POST /v2/cards since this morning and our automation is broken.",
         "API returns 500 on POST /v2/cards", ["high", "urgent"]),
        ("Search in Docs returns nothing, even for a page title I can see right in front of me.",
         "Docs search returns no results", ["normal"]),
        ("Downloading an invoice PDF from the billing settings gives me a blank page.",
         "Invoice PDF download shows blank page", ["normal", "low"]),
        ("I uploaded a {size} MB file and everyone else sees it as 0 bytes.",
         "Uploaded files show as 0 bytes", ["high"]),
        ("Due date reminders arrive about {hours} hours late, and our time zone is set correctly.",
         "Due date reminders arrive late", ["normal"]),
        ("The 'Forgot password' button on the login page does nothing when I click it.",
         "Forgot password button does nothing", ["high"]),
        ("After the last update we lost two days of edits in a shared doc.",
         "Two days of doc edits lost", ["urgent"]),
        ("The {mobile} app signs me out every time I switch to another app and back.",
         "Mobile app keeps signing user out", ["normal"]),
        ("Exporting a board to CSV stops at 99% and never finishes.",
         "Board CSV export never finishes", ["normal"]),
    ],
    "account": [
        ("I can't log in. I reset my password twice and both times the link said it had expired.",
         "Password reset link keeps expiring", ["high"]),
        ("I got a new phone and lost my authenticator app, so I can't get past the two-factor code.",
         "Locked out after losing 2FA device", ["high"]),
        ("Please change the email on my account from {email} to my new address, I've changed jobs.",
         "Change account email address", ["normal"]),
        ("Our workspace owner has left the company. How can ownership be transferred to me? I'm an admin.",
         "Transfer ownership from departed owner", ["normal", "high"]),
        ("Please delete my account and all the personal data you hold about me.",
         "Delete account and personal data", ["normal"]),
        ("I ended up with two accounts, one through Google sign-in and one with my email. Can you merge them?",
         "Merge two duplicate accounts", ["low", "normal"]),
        ("My colleague {name} never received the invitation email to join our workspace.",
         "Invitation email not received", ["normal"]),
        ("My profile still shows my old surname. How do I get my display name updated?",
         "Update display name", ["low"]),
        ("I'm an admin but the member list in Settings is gone for me. Did my role change?",
         "Admin lost access to member list", ["normal", "high"]),
        ("Our account was locked after too many login attempts and the whole team is waiting.",
         "Account locked after failed logins", ["high"]),
        ("A former employee still appears in our workspace. Please remove them so they lose access to our boards.",
         "Remove former employee from workspace", ["normal", "high"]),
        ("We signed up with the wrong workspace name. Can it be changed to {company}?",
         "Rename workspace to {company}", ["low"]),
        ("We're on Enterprise and our IT team has the SAML details ready. Can single sign-on be switched on for us?",
         "Enable SSO for Enterprise workspace", ["normal"]),
        ("I was invited to a workspace I don't use anymore and I want to leave it.",
         "Leave an unused workspace", ["low"]),
        ("I keep getting 'this email is already in use' when I try to sign up, but I never made an account.",
         "Email already in use at sign-up", ["normal"]),
    ],
    "security": [
        ("I got an email saying someone signed in to my account from {country}. That wasn't me.",
         "Unrecognised sign-in from {country}", ["urgent", "high"]),
        ("I think I found a vulnerability: the share link of a private board can be guessed by changing the "
         "number at the end.",
         "Reports guessable private share links", ["high"]),
        ("One of our API keys was accidentally pushed to a public GitHub repository. What should we do?",
         "API key leaked in public repository", ["urgent"]),
        ("We received an email pretending to be from Fjordly that asks for card details. Is this really you?",
         "Phishing email impersonating Fjordly", ["high", "normal"]),
        ("Our security team needs your SOC 2 report and a signed DPA before we can renew.",
         "Requests SOC 2 report and DPA", ["normal"]),
        ("Is our data encrypted at rest, and can it be stored in the EU only?",
         "Asks about encryption and EU data residency", ["normal", "low"]),
        ("Someone deleted a bunch of boards in our workspace overnight and nobody on the team did it.",
         "Boards deleted by unknown user", ["urgent"]),
        ("We removed a contractor from the workspace, but they can still open our docs.",
         "Removed contractor still has access", ["high", "urgent"]),
        ("The password reset email I just got links to a domain that isn't fjordly.example.",
         "Suspicious password reset email", ["high"]),
        ("For an internal investigation we need a log of who signed in to our workspace in the last 30 days.",
         "Needs sign-in audit log for investigation", ["high", "normal"]),
        ("I can see another company's board in my sidebar. I should definitely not have access to this.",
         "Can see another company's board", ["urgent"]),
        ("We had a phishing scare last week. Please make two-factor login mandatory for everyone in our workspace.",
         "Wants 2FA enforced for all members", ["normal"]),
        ("A teammate's laptop with Fjordly Sync on it was stolen this morning. Can we cut its access?",
         "Stolen laptop with Sync access", ["urgent", "high"]),
        ("Our pentest found that the session cookie is not marked Secure. Where should we send the full report?",
         "Pentest finding: cookie not Secure", ["high", "normal"]),
    ],
    "feature_request": [
        ("It would be great to have a dark mode in Fjordly Docs. My eyes hurt when I work late.",
         "Dark mode for Docs", ["low"]),
        ("Please add Gantt charts to Boards, we plan all our projects on a timeline.",
         "Gantt charts in Boards", ["low"]),
        ("Any chance of a Microsoft Teams integration? We don't use Slack.",
         "Microsoft Teams integration", ["low", "normal"]),
        ("Tasks that repeat every second Tuesday would help us a lot, weekly isn't enough.",
         "Custom recurrence rules for tasks", ["low"]),
        ("Could invoices be sent automatically to our accounting software each month?",
         "Automatic invoice export to accounting software", ["low"]),
        ("Please let us require two-factor login only for admins, not for every member.",
         "Require 2FA for admins only", ["low", "normal"]),
        ("A bulk endpoint in the API to create hundreds of cards in one call would save us a lot of time.",
         "Bulk card creation endpoint in API", ["low"]),
        ("Offline editing in the mobile app would be really useful when I'm travelling.",
         "Offline editing in mobile app", ["low"]),
        ("Could Starter include more than 5 guests? We'd happily pay a bit more for them.",
         "More guest seats on Starter", ["low"]),
        ("I wish Docs showed a word count and reading time.",
         "Word count in Docs", ["low"]),
        ("We'd love an ARM build of Fjordly Sync for Linux, our new laptops can't run it.",
         "ARM Linux build of Sync", ["low"]),
        ("It would be nice to put our own logo on the workspace login page.",
         "Custom logo on login page", ["low"]),
        ("Could you add a way to lock a doc so nobody edits it by accident?",
         "Lock docs against editing", ["low"]),
        ("We'd like to pick our data region on Pro too, not only on Enterprise.",
         "Data region choice on Pro plan", ["low"]),
        ("Please add a way to give a card several assignees, one person per card is too limiting.",
         "Multiple assignees per card", ["low"]),
    ],
    "how_to": [
        ("How do I download all our past invoices at once?",
         "How to download past invoices", ["low"]),
        ("How can I turn on two-factor authentication for my own account?",
         "How to enable 2FA", ["low"]),
        ("Is there a way to bring our boards over from Trello?",
         "How to import boards from Trello", ["low", "normal"]),
        ("How do I get back a doc I deleted last week?",
         "How to restore a deleted doc", ["normal"]),
        ("Where do I find the API key for our workspace?",
         "Where to find the API key", ["low"]),
        ("How do I set up a task that repeats every Monday?",
         "How to create a weekly recurring task", ["low"]),
        ("What's the keyboard shortcut for a new card?",
         "Keyboard shortcut for a new card", ["low"]),
        ("How can I see an older version of a document and go back to it?",
         "How to restore an older doc version", ["low", "normal"]),
        ("How do I connect Fjordly to our GitHub repository so that commits show up on cards?",
         "How to connect the GitHub integration", ["low"]),
        ("Can I choose which folders Fjordly Sync keeps on my laptop?",
         "How to choose synced folders", ["low"]),
        ("How do I stop getting an email for every comment? A daily summary is enough for me.",
         "How to switch to a daily email digest", ["low"]),
        ("How do I let a client see one board without paying for a full seat?",
         "How to share a board with a client as guest", ["low", "normal"]),
        ("What's the best way to move cards from one workspace to another?",
         "How to move cards between workspaces", ["low"]),
        ("We need a copy of all our data before the end of the month. How do we export everything?",
         "How to export all workspace data", ["normal"]),
        ("Where can I see how much storage our workspace is using?",
         "Where to see storage usage", ["low"]),
    ],
}
# A sentence about another category, added to some tickets; the label stays the main request's.
ASIDES = {
    "billing": ["Also, unrelated: our last receipt had the wrong address on it.",
                "Separately, I still need the invoice for {month}."],
    "bug": ["Side note: the calendar view has been very slow this week too.",
            "By the way, the app crashed once while I was writing this."],
    "account": ["Also, could you update my display name while you're at it?",
                "P.S. my colleague's invite never arrived either."],
    "security": ["By the way, is our data stored in the EU?",
                 "Also, we got a strange email that looked like it came from you."],
    "feature_request": ["And it would be great to have dark mode one day!",
                        "Also, a Teams integration would be lovely."],
    "how_to": ["Also, how do I change my notification settings?",
               "And where do I find keyboard shortcuts?"],
}
CUES = {
    "urgent": ["This is urgent: {n} people can't work right now.", "URGENT, please respond asap.",
               "Everything is stopped on our side.", "Please escalate this immediately."],
    "high": ["I'm blocked until this is fixed.", "We have a deadline on {weekday}, so please help soon.",
             "This stops me from doing my job.", "Please look at this today if you can."],
    "normal": ["", "", "Whenever you can, thanks.", "It's not blocking us yet."],
    "low": ["No rush.", "Not urgent at all.", "Just curious.", "Whenever you have a moment."],
}
GREETINGS = ["Hi,", "Hello,", "Hi team,", "Hello Fjordly support,", "Hey there,", "Good morning,",
             "Dear support,", "", ""]
CONTEXTS = ["I'm the admin of a {n}-person workspace on the {plan} plan.", "We use Fjordly for our {team} team.",
            "I've been a customer for {years} years.", "We're on the {plan} plan.",
            "I'm writing on behalf of {company}."]
CLOSINGS = ["Thanks!", "Thanks in advance.", "Cheers, {name}", "Best regards,\n{name}",
            "Thank you,\n{name} ({company})", "Regards, {name}", "", ""]
NAMES = ["Amira", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
         "Lars", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tomasz", "Uma", "Viktor",
         "Wen", "Yusuf", "Zoe"]
COMPANIES = ["Northgate Design", "Bluepine Logistics", "Ostara Health", "Kettle & Co", "Miravel Studios",
             "Tidewater Legal", "Copperleaf Foods", "Vantor Robotics", "Alder Street School", "Juniper Labs"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
ERRORS = ["Something went wrong (E-1042)", "500 Internal Server Error", "Board failed to load",
          "Unexpected token in JSON", "Request timed out"]


def draw_slots(rng: random.Random) -> dict:
    """Random values for every ``{slot}`` of the templates, consistent within one ticket."""
    plan = rng.choice(["Starter", "Pro"])
    n = rng.randint(3, 60)
    name = rng.choice(NAMES)
    slots = dict(
        plan=plan, n=n, k=rng.randint(2, min(9, n - 1)), amount=PRICES[plan] * n,
        amount2=PRICES[plan] * (n + rng.randint(3, 12)), month=rng.choice(MONTHS), days=rng.randint(3, 40),
        vat=f"{rng.choice(['DE', 'FR', 'NL', 'IE', 'SE'])}{rng.randint(100000000, 999999999)}",
        company=rng.choice(COMPANIES), day=rng.randint(2, 13), name=name, weekday=rng.choice(WEEKDAYS),
        err=rng.choice(ERRORS), view=rng.choice(["calendar", "timeline", "list", "table"]),
        os=rng.choice(["Windows 11", "macOS 14", "Ubuntu 22.04", "Windows 10"]),
        browser=rng.choice(["Chrome", "Firefox", "Safari", "Edge"]), hours=rng.randint(2, 30),
        size=rng.randint(5, 900), mobile=rng.choice(["iPhone", "Android", "iPad"]),
        email=f"{name.lower()}@{rng.choice(['mail.example', 'oldjob.example', 'corp.example'])}",
        country=rng.choice(["Brazil", "Vietnam", "Romania", "Nigeria", "Canada", "Indonesia"]),
        team=rng.choice(["marketing", "engineering", "design", "support", "finance", "operations"]),
        years=rng.randint(2, 7),
    )
    return slots


def typo(rng: random.Random, text: str) -> str:
    """Swap two neighbouring letters inside one longer word, as fast typists do."""
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def make_ticket(rng: random.Random, category: str, split: str) -> dict:
    """One ticket: ``text`` plus the triage answer (category, priority, summary) it implies."""
    templates = TEMPLATES[category]
    pool = templates[:-HELD_OUT] if split == "train" else templates
    issue, summary, priorities = rng.choice(pool)
    priority = rng.choice(priorities)
    slots = draw_slots(rng)
    parts = [rng.choice(GREETINGS)]
    if rng.random() < 0.5:
        parts.append(rng.choice(CONTEXTS))
    parts.append(issue)
    parts.append(rng.choice(CUES[priority]))
    if rng.random() < 0.2:
        other = rng.choice([c for c in CATEGORIES if c != category])
        parts.append(rng.choice(ASIDES[other]))
    parts.append(rng.choice(CLOSINGS))
    text = rng.choice([" ", "\n"]).join(p.format(**slots) for p in parts if p)
    if rng.random() < 0.3:
        text = typo(rng, text)
    if rng.random() < 0.08:
        text = text.lower()
    return dict(text=text, category=category, priority=priority, summary=summary.format(**slots))


def make_tickets(rng: random.Random, per_class: dict[str, int], seen: set[str]) -> dict[str, list[dict]]:
    """Class-balanced splits with no ticket text in two splits (``seen`` is shared across calls)."""
    splits = {}
    for split, n in per_class.items():
        rows = []
        for category in CATEGORIES:
            count = 0
            while count < n:
                t = make_ticket(rng, category, split)
                if t["text"] not in seen:
                    seen.add(t["text"])
                    rows.append(t)
                    count += 1
        rng.shuffle(rows)
        splits[split] = rows
    return splits


def triage_json(t: dict, **changes) -> str:
    answer = {"category": t["category"], "priority": t["priority"], "summary": t["summary"], **changes}
    return json.dumps({k: v for k, v in answer.items() if v is not None})


def chat(t: dict) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": t["text"]}]


# Rejected answers for preference pairs. Easy: the format is broken. Hard: valid JSON, one field wrong.
CONFUSED = {"billing": "how_to", "bug": "how_to", "account": "security", "security": "account",
            "feature_request": "how_to", "how_to": "feature_request"}


def rejected_answer(rng: random.Random, t: dict, kind: str) -> str:
    good = triage_json(t)
    if kind == "invalid_json":
        return rng.choice([good[:-1], good.replace('"', "'"), good[:-1] + ",}",
                           good.replace('"category"', "category").replace('"priority"', "priority")])
    if kind == "verbose":
        return (rng.choice(["Sure! I read the ticket carefully. Here is my triage:",
                            "Thanks for sharing this ticket. Let me analyse it step by step.",
                            "Of course. Based on the customer's message, this is my assessment:"])
                + "\n\n" + good + "\n\n"
                + rng.choice(["Let me know if you need anything else!",
                              "I hope this helps the support team respond quickly.",
                              "Feel free to ask if you want me to draft a reply to the customer too."]))
    if kind == "missing_field":
        return triage_json(t, **{rng.choice(["priority", "summary"]): None})
    if kind == "wrong_category":
        return triage_json(t, category=CONFUSED[t["category"]])
    if kind == "wrong_priority":
        i = PRIORITIES.index(t["priority"])
        return triage_json(t, priority=PRIORITIES[i + 1 if i < 2 else i - 1])
    if kind == "long_summary":  # the whole ticket pasted in as the "summary"
        return triage_json(t, summary="The customer wrote in to say: " + " ".join(t["text"].split()))
    raise ValueError(kind)


PAIR_KINDS = ["invalid_json"] * 2 + ["verbose"] * 2 + ["missing_field"] * 2 + \
             ["wrong_category"] * 2 + ["wrong_priority", "long_summary"]  # 40% hard


# ---------------------------------------------------------------------------------------------
# Knowledge base: (title, text, [(question, answer)]). Every answer appears verbatim in its text.
# ---------------------------------------------------------------------------------------------
DOCS = [
    ("Plans and prices",
     "Fjordly has four plans. Free is for up to 3 members and 2 GB of storage. Starter costs $6 per user per month "
     "and Pro costs $12 per user per month. Enterprise is priced per contract and adds single sign-on, SCIM, a 99.9% "
     "uptime SLA and a choice of data region. Prices exclude VAT.",
     [("How much does the Pro plan cost?", "$12 per user per month"),
      ("How many members can a Free workspace have?", "up to 3 members")]),
    ("Monthly and annual billing",
     "Every paid plan can be billed monthly or annually. Annual billing costs the same as 10 months, so two months "
     "are free. Switching from monthly to annual takes effect immediately: you are charged for the year and credited "
     "for the unused part of the current month.",
     [("How many months are free with annual billing?", "two months"),
      ("When does a switch from monthly to annual billing take effect?", "immediately")]),
    ("Refund policy",
     "Annual plans can be refunded in full within 30 days of purchase; after that, they are not refunded. Monthly "
     "plans are never refunded, but you can cancel at any time and keep access until the end of the period you paid "
     "for. Double charges caused by our payment system are always refunded within 5 business days.",
     [("Within how many days can an annual plan be refunded?", "30 days"),
      ("How fast is a double charge refunded?", "within 5 business days")]),
    ("Invoices and receipts",
     "Every payment creates an invoice. Owners and billing admins find all invoices under Settings > Billing > "
     "Invoices, where they can download them one by one or all at once as a ZIP file. The company name and address "
     "on future invoices can be edited on the same page.",
     [("Where do I find my invoices?", "Settings > Billing > Invoices"),
      ("Can I download all invoices at once?", "as a ZIP file")]),
    ("VAT and tax IDs",
     "Customers in the EU and the UK can add a VAT number under Settings > Billing > Tax ID. With a valid VAT number, "
     "invoices show the reverse-charge note and no VAT is added. A VAT number cannot be added to invoices that were "
     "already issued; support can reissue invoices from the last 90 days.",
     [("Where do I add a VAT number?", "Settings > Billing > Tax ID"),
      ("How old can an invoice be for support to reissue it with a VAT number?", "the last 90 days")]),
    ("Payment methods",
     "Starter and Pro are paid by credit or debit card. Enterprise can also pay by bank transfer against an invoice, "
     "with 30-day payment terms. We do not accept cheques or cryptocurrency.",
     [("Which plan can pay by bank transfer?", "Enterprise"),
      ("What are the payment terms for bank transfers?", "30-day payment terms")]),
    ("Failed payments",
     "If a payment fails we retry it 3 times over 7 days and email the workspace owner each time. If it still fails, "
     "the workspace is downgraded to Free and becomes read-only above the Free limits. Paying the open invoice "
     "restores the plan at once, with all data intact.",
     [("How many times is a failed payment retried?", "3 times over 7 days"),
      ("What happens when a payment keeps failing?", "downgraded to Free")]),
    ("Seats and guests",
     "Paid plans are billed per member seat. Seats added during a billing period are charged pro rata; seats removed "
     "are credited on the next invoice, not refunded. Guests are free: each paid seat allows up to 5 guests, who can "
     "see and comment on the boards they are invited to.",
     [("How many guests does each paid seat allow?", "up to 5 guests"),
      ("What happens to seats removed in the middle of a billing period?", "credited on the next invoice")]),
    ("Changing plans",
     "Upgrades take effect immediately and are charged pro rata. Downgrades take effect at the end of the current "
     "billing period, so the next invoice is the first one at the lower price. Features of the higher plan stay "
     "available until then.",
     [("When does a downgrade take effect?", "at the end of the current billing period"),
      ("How are upgrades charged?", "pro rata")]),
    ("Cancelling a subscription",
     "The workspace owner can cancel under Settings > Billing > Cancel plan. The plan stays active until the end of "
     "the paid period and then becomes Free. Nothing is deleted at cancellation.",
     [("Who can cancel a subscription?", "The workspace owner"),
      ("What does a cancelled plan become at the end of the paid period?", "Free")]),
    ("Data retention after cancellation",
     "When a workspace is deleted, its data is kept for 60 days so that it can be restored, then erased permanently, "
     "including backups, within a further 30 days. Export your data before deleting a workspace if you want to "
     "keep it.",
     [("How long is data kept after a workspace is deleted?", "60 days"),
      ("How long until backups of a deleted workspace are erased?", "a further 30 days")]),
    ("Free plan limits",
     "The Free plan includes up to 3 members, 10 boards, 2 GB of storage, a 100 MB limit per file and 7 days of "
     "version history. Support on Free is by email only, answered within 3 business days.",
     [("What is the file size limit on Free?", "100 MB"),
      ("How much version history does the Free plan have?", "7 days")]),
    ("Nonprofit and education discounts",
     "Registered nonprofits and accredited schools get 50% off Starter and Pro. Apply from Settings > Billing > "
     "Discounts with proof of status; applications are reviewed within 5 business days.",
     [("How big is the nonprofit discount?", "50% off"),
      ("How long does a discount application review take?", "within 5 business days")]),
    ("Resetting your password",
     "Use 'Forgot password' on the login page to receive a reset link by email. The link is valid for 30 minutes and "
     "can be used once. If you signed up with Google sign-in, reset your Google password instead.",
     [("How long is a password reset link valid?", "30 minutes"),
      ("How many times can a reset link be used?", "once")]),
    ("Two-factor authentication",
     "Turn on two-factor authentication under Profile > Security > Two-factor. Fjordly supports authenticator apps "
     "and hardware security keys, not SMS. When you turn it on you get 10 recovery codes; store them somewhere safe.",
     [("Where do I turn on two-factor authentication?", "Profile > Security > Two-factor"),
      ("How many recovery codes do I get?", "10 recovery codes")]),
    ("Lost two-factor device",
     "If you lose your two-factor device, sign in with one of your recovery codes. Without recovery codes, a "
     "workspace owner can reset your two-factor setting from Settings > Members; if you are the owner, support "
     "verifies your identity first, which takes up to 2 business days.",
     [("What should I use to sign in if I lost my 2FA device?", "one of your recovery codes"),
      ("How long does identity verification take for an owner who lost 2FA?", "up to 2 business days")]),
    ("Changing your email address",
     "Change your login email under Profile > Account > Email. We send a confirmation link to the new address, and "
     "the change takes effect once you click it. Accounts using Google sign-in change their email with Google.",
     [("Where do I change my login email?", "Profile > Account > Email"),
      ("When does an email change take effect?", "once you click it")]),
    ("Workspace ownership",
     "Each workspace has exactly one owner. The owner can transfer ownership to an admin under Settings > Members. "
     "If the owner has left the organisation, support can transfer ownership to an admin after written confirmation "
     "from a company officer.",
     [("How many owners can a workspace have?", "exactly one owner"),
      ("What does support need to transfer ownership from a departed owner?",
       "written confirmation from a company officer")]),
    ("Deleting your account",
     "You can delete your personal account under Profile > Account > Delete account. Deletion has a 14-day grace "
     "period during which signing in cancels it. Workspace owners must transfer ownership before deleting their "
     "account.",
     [("How long is the grace period for account deletion?", "14-day grace period"),
      ("What must an owner do before deleting their account?", "transfer ownership")]),
    ("Single sign-on",
     "SAML single sign-on and SCIM provisioning are available on Enterprise. An owner sets them up under Settings > "
     "Security > SSO with the identity provider's metadata URL. Okta, Microsoft Entra ID and Google Workspace are "
     "tested; any SAML 2.0 provider should work.",
     [("Which plan includes SAML single sign-on?", "Enterprise"),
      ("Which SAML version is supported?", "SAML 2.0")]),
    ("Roles and permissions",
     "Workspaces have four roles: owner, admin, member and guest. Admins manage members, integrations and settings "
     "except billing; only the owner and billing admins see invoices. Members create and edit boards and docs. "
     "Guests only see what they are invited to.",
     [("How many roles does a workspace have?", "four roles"),
      ("Who can see invoices?", "only the owner and billing admins")]),
    ("Removing a member",
     "Admins remove a member under Settings > Members > Remove. The person loses access immediately, including "
     "signed-in sessions on other devices and Fjordly Sync. Their boards and docs stay in the workspace.",
     [("When does a removed member lose access?", "immediately"),
      ("What happens to a removed member's boards and docs?", "stay in the workspace")]),
    ("Boards, lists and cards",
     "A board holds lists, and a list holds cards. Cards have a title, a description, one assignee, a due date, "
     "labels and checklists. Views: board, list, table, calendar and timeline (the timeline view is on Pro and "
     "Enterprise).",
     [("How many assignees can a card have?", "one assignee"),
      ("Which plans have the timeline view?", "Pro and Enterprise")]),
    ("Recurring tasks and reminders",
     "Any card can repeat daily, weekly or monthly: open the card and choose Repeat. Reminders are sent by email and "
     "push notification at 9:00 in the workspace time zone on the due date, unless you pick another time.",
     [("How often can a card repeat?", "daily, weekly or monthly"),
      ("At what time are reminders sent by default?", "at 9:00 in the workspace time zone")]),
    ("Version history in Docs",
     "Fjordly Docs saves a version every few minutes while you edit. Open the clock icon to see versions and restore "
     "one. History is kept for 7 days on Free, 90 days on Starter, 1 year on Pro and without limit on Enterprise.",
     [("How long is version history kept on Pro?", "1 year"),
      ("How do I see older versions of a doc?", "Open the clock icon")]),
    ("Trash and restoring",
     "Deleted boards, cards and docs go to the trash, where they stay for 30 days. Any member can restore their own "
     "items from the trash; admins can restore anything. After 30 days items are deleted for good.",
     [("How long do deleted items stay in the trash?", "30 days"),
      ("Who can restore anything from the trash?", "admins")]),
    ("Exporting your data",
     "Owners and admins can export the whole workspace under Settings > Data > Export as JSON, or each board as CSV. "
     "Large exports are prepared in the background and a download link is emailed; it is valid for 7 days.",
     [("In which format is a full workspace export?", "JSON"),
      ("How long is an export download link valid?", "7 days")]),
    ("Importing from other tools",
     "Import boards from Trello, Asana and Jira under Settings > Data > Import, or any tool through CSV. Comments, "
     "attachments and members are imported from Trello and Asana; from Jira only issues and comments.",
     [("Which tools can boards be imported from?", "Trello, Asana and Jira"),
      ("What does an import from Jira bring over?", "only issues and comments")]),
    ("Fjordly Sync requirements",
     "Fjordly Sync runs on Windows 10 and 11, macOS 13 or later and 64-bit Linux on x86 (Ubuntu 22.04 or later). "
     "There is no ARM build for Linux yet. Selective sync lets you choose which folders are kept on your computer.",
     [("Is there an ARM build of Fjordly Sync for Linux?", "There is no ARM build for Linux yet"),
      ("Which macOS versions does Fjordly Sync support?", "macOS 13 or later")]),
    ("Sync conflicts",
     "When the same file is changed on two computers before they sync, Fjordly Sync keeps both: the second copy gets "
     "'(conflict)' and the computer's name added to its file name. Nothing is overwritten silently.",
     [("What does Sync add to the name of a conflicting copy?", "'(conflict)' and the computer's name"),
      ("Does Sync overwrite files in a conflict?", "Nothing is overwritten silently")]),
    ("Storage and file limits",
     "Storage is pooled per workspace: 2 GB on Free, 10 GB per seat on Starter and 100 GB per seat on Pro. The "
     "maximum file size is 100 MB on Free and 5 GB on paid plans. Usage is shown under Settings > Data > Storage.",
     [("What is the maximum file size on paid plans?", "5 GB"),
      ("Where can I see storage usage?", "Settings > Data > Storage")]),
    ("Integrations",
     "Fjordly integrates with Slack, GitHub, Google Drive and Zapier; set them up under Settings > Integrations. The "
     "GitHub integration links commits and pull requests to cards that are mentioned by their card number. There is "
     "no Microsoft Teams integration yet.",
     [("Is there a Microsoft Teams integration?", "There is no Microsoft Teams integration yet"),
      ("How does the GitHub integration link commits to cards?", "by their card number")]),
    ("API keys and rate limits",
     "Create API keys under Settings > Integrations > API. Keys act with the permissions of the person who made them. "
     "The API allows 100 requests per minute on Free, 1,000 on Starter and Pro and 5,000 on Enterprise; over the "
     "limit it answers HTTP 429.",
     [("What is the API rate limit on Pro?", "1,000"),
      ("Which HTTP status does the API return over the limit?", "HTTP 429")]),
    ("Webhooks",
     "Webhooks send a signed POST request to your URL when cards, boards or docs change. Each request carries an "
     "X-Fjordly-Signature header, an HMAC-SHA256 of the body. Failed deliveries are retried for 24 hours.",
     [("Which header carries the webhook signature?", "X-Fjordly-Signature"),
      ("For how long are failed webhook deliveries retried?", "24 hours")]),
    ("Status page and incidents",
     "Live service status and past incidents are at status.fjordly.example. During an incident we post updates "
     "there at least every 30 minutes. Enterprise customers get credits when monthly uptime falls below 99.9%.",
     [("Where is the status page?", "status.fjordly.example"),
      ("How often are incident updates posted?", "at least every 30 minutes")]),
    ("Support hours and response times",
     "Email support is open 24 hours a day on weekdays for Starter and Pro, and 24/7 for Enterprise. First response "
     "targets: urgent 1 hour, high 4 hours, normal 1 business day, low 3 business days. Free workspaces get email "
     "support within 3 business days.",
     [("What is the first response target for an urgent ticket?", "1 hour"),
      ("When is support available for Enterprise?", "24/7")]),
    ("How support prioritises tickets",
     "Urgent: the service is down, data was lost, or a security incident is happening now. High: a customer is "
     "blocked, was charged wrongly, or has a deadline. Normal: a problem with a workaround, or a routine request. "
     "Low: questions, feedback and feature requests.",
     [("Which priority does a feature request get?", "Low"),
      ("Which priority is a customer who was charged wrongly?", "High")]),
    ("Reporting a security vulnerability",
     "Report vulnerabilities to security@fjordly.example, with steps to reproduce. We acknowledge reports within 1 "
     "business day and run a bug bounty for valid findings. Please do not test against other customers' data.",
     [("Where do I report a vulnerability?", "security@fjordly.example"),
      ("How soon are vulnerability reports acknowledged?", "within 1 business day")]),
    ("Suspicious sign-ins",
     "If you see a sign-in you do not recognise, change your password, sign out all sessions under Profile > "
     "Security > Sessions and turn on two-factor authentication. Then tell support; we review the account's audit "
     "log with you.",
     [("Where do I sign out all sessions?", "Profile > Security > Sessions"),
      ("What does support review after a suspicious sign-in?", "the account's audit log")]),
    ("Encryption and data location",
     "All data is encrypted in transit with TLS 1.2 or later and at rest with AES-256. Data is stored in the US by "
     "default; Enterprise workspaces can choose the EU region. A data processing agreement (DPA) is available on "
     "every paid plan.",
     [("How is data encrypted at rest?", "AES-256"),
      ("Which plan can store data in the EU region?", "Enterprise")]),
    ("Compliance reports",
     "Fjordly is SOC 2 Type II audited every year. Enterprise and Pro customers can request the latest SOC 2 report "
     "under NDA from their account page or from support. A signed DPA is available on every paid plan.",
     [("How often is Fjordly SOC 2 audited?", "every year"),
      ("Under what condition is the SOC 2 report shared?", "under NDA")]),
    ("Audit log",
     "Enterprise workspaces have an audit log under Settings > Security > Audit log: sign-ins, permission changes, "
     "exports and deletions, kept for 1 year and exportable as CSV.",
     [("How long is the audit log kept?", "1 year"),
      ("Which plan has an audit log?", "Enterprise")]),
    ("Feature requests and the roadmap",
     "Send feature ideas to support or vote on the public roadmap at roadmap.fjordly.example. The product team reviews "
     "the most-voted ideas every quarter. We do not promise dates for requested features.",
     [("Where is the public roadmap?", "roadmap.fjordly.example"),
      ("How often does the product team review top ideas?", "every quarter")]),
    ("Mobile apps",
     "Fjordly has apps for iOS 16 or later and Android 10 or later. The apps cover Boards and Docs; Docs can be read "
     "offline but edited only when online.",
     [("Which Android versions are supported?", "Android 10 or later"),
      ("Can docs be edited offline in the mobile app?", "edited only when online")]),
    ("Keyboard shortcuts",
     "Press N to create a new card, E to edit the selected card, / to search, and ? to see every shortcut. On macOS, "
     "Cmd+K opens the command menu; on Windows and Linux it is Ctrl+K.",
     [("What is the shortcut for a new card?", "N"),
      ("How do I see every shortcut?", "?")]),
    ("Notifications and digests",
     "Choose how you are notified under Profile > Notifications: instantly, as an hourly digest or as a daily digest "
     "sent at 8:00. Mentions and assignments are always sent instantly.",
     [("When is the daily digest sent?", "at 8:00"),
      ("Which notifications are always sent instantly?", "Mentions and assignments")]),
    ("Browser support",
     "The web app supports the latest two versions of Chrome, Firefox, Safari and Edge. Internet Explorer is not "
     "supported. If something looks broken, clear the cache or try a private window first.",
     [("Which browsers are supported?", "Chrome, Firefox, Safari and Edge"),
      ("Is Internet Explorer supported?", "Internet Explorer is not supported")]),
    ("Moving content between workspaces",
     "Boards can be moved to another workspace you administer from the board menu > Move. Cards move with their "
     "comments and attachments, but guests of the old workspace lose access.",
     [("Where do I move a board to another workspace?", "the board menu > Move"),
      ("Who loses access when a board moves?", "guests of the old workspace")]),
]
QUESTION_STYLES = ["{q}", "Hi, {ql}", "Quick question: {ql}", "{q} Thanks!", "Hello, {ql}"]


def make_knowledge_base(rng: random.Random) -> tuple[list[dict], list[dict]]:
    docs, qa = [], []
    for i, (title, text, facts) in enumerate(DOCS, 1):
        doc_id = f"kb-{i:02d}"
        docs.append(dict(id=doc_id, title=title, text=text))
        for q, a in facts:
            assert a in text, (title, a)
            style = rng.choice(QUESTION_STYLES)
            qa.append(dict(question=style.format(q=q, ql=q[0].lower() + q[1:]), answer=a, doc_id=doc_id))
    return docs, qa


# ---------------------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(out: Path = OUT) -> None:
    # Tickets for classification: text + label name.
    rng = random.Random(f"{SEED}-tickets")
    seen: set[str] = set()
    tickets = make_tickets(rng, {"train": 80, "test": 20}, seen)
    for split, rows in tickets.items():
        write_jsonl(out / "tickets" / f"{split}.jsonl", [dict(text=t["text"], label=t["category"]) for t in rows])

    # SFT: the same domain, fresh tickets, the answer is the triage JSON.
    rng = random.Random(f"{SEED}-sft")
    sft = make_tickets(rng, {"train": 50, "test": 10}, seen)
    for split, rows in sft.items():
        write_jsonl(out / "sft" / f"{split}.jsonl",
                    [dict(messages=chat(t) + [{"role": "assistant", "content": triage_json(t)}]) for t in rows])

    # Preferences: chosen = the right JSON; rejected = broken format (easy) or one wrong field (hard).
    rng = random.Random(f"{SEED}-preferences")
    prefs = make_tickets(rng, {"train": 40, "test": 10}, seen)
    for split, rows in prefs.items():
        pairs = []
        for t in rows:
            kind = rng.choice(PAIR_KINDS)
            pairs.append(dict(prompt=chat(t), chosen=[{"role": "assistant", "content": triage_json(t)}],
                              rejected=[{"role": "assistant", "content": rejected_answer(rng, t, kind)}], kind=kind))
        write_jsonl(out / "preferences" / f"{split}.jsonl", pairs)

    # Knowledge base and the questions it answers.
    rng = random.Random(f"{SEED}-kb")
    docs, qa = make_knowledge_base(rng)
    write_jsonl(out / "knowledge_base" / "docs.jsonl", docs)
    write_jsonl(out / "rag_qa" / "qa.jsonl", qa)
    print(f"Wrote tickets {[len(v) for v in tickets.values()]}, sft {[len(v) for v in sft.values()]}, "
          f"preferences {[len(v) for v in prefs.values()]}, {len(docs)} docs, {len(qa)} questions to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT})")
    main(parser.parse_args().out)
