"""Demo data for `flask demo`: fictional stakeholders discussing EU funds for the
labour-market integration of migrants and refugees, in three consultations and three events:
a live one (a plenary and four breakout rooms, half-way through), a webinar that ended some
three weeks ago (with its pre-event input, attendance, feedback: all a full report needs) and
one in about ten days whose pre-event questions are open.

Everything goes through the services, as a person using the site would, so the demo only
contains what the rules allow. Nothing here commits: the command does. Everything is dated
relative to now, so the demo always looks live: the consultations' timestamps are set
afterwards; the events run each action at the moment it simulates (`clock_at`), so what the
services store, the moderation log and the notices included, carries those times. Every
person and organisation below is invented.
"""
from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import (
    Consultation,
    Endorsement,
    Event,
    Notification,
    NotificationKind,
    Post,
    PreEventAnswer,
    Question,
    Room,
    User,
)
from forum.models.base import clock_at, utcnow
from forum.models.events import AssignmentMode
from forum.services import (
    accounts,
    consultations,
    event_setup,
    feedback,
    moderation,
    notifications,
    polls,
    posts,
    preevent,
    questions,
    rooms,
)

SEED = 20240917

ADMIN_EMAIL = "admin@plenary.example"
ADMIN_PASSWORD = "plenary-admin-demo"
ORGANISER_EMAIL = "organiser@plenary.example"
ORGANISER_PASSWORD = "plenary-organiser-demo"
# One password for every fictional participant, so that any of them can be tried.
PARTICIPANT_PASSWORD = "plenary-participant-demo"


# --- People -------------------------------------------------------------------------

@dataclass
class Person:
    key: str
    email: str
    name: str
    organisation: str
    organisation_type: str
    country: str
    role_title: str
    language: str = "en"
    timezone: str = "Europe/Brussels"


ADMIN = Person("admin", ADMIN_EMAIL, "Plenary Admin", "Plenary", "other", "BE",
               "Platform administrator")
ORGANISER = Person("helena", ORGANISER_EMAIL, "Helena Marquardt",
                   "European Network for Inclusive Cohesion Policy", "non_profit", "BE",
                   "Consultation coordinator")

PARTICIPANTS = [
    Person("giulia", "giulia.ferraresi@regione-lunigiana-est.example", "Giulia Ferraresi",
           "Autorità di Gestione FSE+ – Regione Lunigiana Orientale", "managing_authority", "IT",
           "Funzionaria, programma regionale FSE+", "it", "Europe/Rome"),
    Person("marco", "marco.bellandi@pontiaperti.example", "Marco Bellandi",
           "Cooperativa Sociale Ponti Aperti", "ngo", "IT",
           "Coordinatore area inserimento lavorativo", "it", "Europe/Rome"),
    Person("amina", "amina.diallo@passerelles-solidaires.example", "Amina Diallo",
           "Association Passerelles Solidaires", "migrant_led", "FR",
           "Co-founder and director", timezone="Europe/Paris"),
    Person("jonas", "jonas.weber@neuhafen-stadt.example", "Jonas Weber",
           "City of Neuhafen – Integration Office", "local_authority", "DE",
           "Head of the integration unit", timezone="Europe/Berlin"),
    Person("eva", "eva.lindqvist@norrvik-uni.example", "Eva Lindqvist",
           "Institute for Migration and Labour Studies, University of Norrvik", "research", "SE",
           "Senior researcher", timezone="Europe/Stockholm"),
    Person("pieter", "pieter.janssens@gusw-union.example", "Pieter Janssens",
           "General Union of Service Workers", "trade_union", "BE",
           "Coordinator, migrant workers' desk"),
    Person("katarzyna", "k.nowak@lubowo-employers.example", "Katarzyna Nowak",
           "Employers' Association of Greater Lubowo", "employers", "PL",
           "Skills and training adviser", timezone="Europe/Warsaw"),
    Person("sofia", "sofia.papadaki@nri-hellas.example", "Sofia Papadaki",
           "Network for Refugee Inclusion Hellas", "ngo", "GR",
           "Programme manager, employment pathways", timezone="Europe/Athens"),
    Person("ahmad", "ahmad.karimi@apn-austria.example", "Ahmad Karimi",
           "Afghan Professionals Network Austria", "migrant_led", "AT",
           "Board member, mentoring programme", timezone="Europe/Vienna"),
    Person("lucia", "lucia.ortega@empleo-costaverde.example", "Lucía Ortega Sánchez",
           "Regional Employment Service of Costa Verde", "regional_authority", "ES",
           "Head of labour intermediation", timezone="Europe/Madrid"),
    Person("tomas", "tomas.novak@esf-coordination.example", "Tomáš Novák",
           "National ESF+ Coordination Office", "national_authority", "CZ",
           "Head of programming and evaluation", timezone="Europe/Prague"),
    Person("niamh", "niamh.oconnell@westshore-ic.example", "Niamh O'Connell",
           "Westshore Integration Centre", "non_profit", "IE",
           "Employment programme lead", timezone="Europe/Dublin"),
    Person("ana", "ana.ribeiro@ribeirocosta-hotels.example", "Ana Ribeiro",
           "Ribeiro & Costa Hotels", "private_company", "PT",
           "Human resources director", timezone="Europe/Lisbon"),
]


# --- Posts --------------------------------------------------------------------------

@dataclass
class Reply:
    author: str
    hours_after: float          # after the post it answers
    body: str
    endorsements: int = 0
    quote: bool = False         # the reply quotes its parent
    replies: list[Reply] = field(default_factory=list)


@dataclass
class Response:
    topic: int                  # 1-based topic position
    author: str
    days_ago: float             # in the open consultation; days after opening in the closed one
    subject: str
    body: str
    endorsements: int = 0
    on_behalf: bool = False
    replies: list[Reply] = field(default_factory=list)
    stance: str | None = None   # on a proposal topic (forum.models.posts.Stance codes)


MAIN_TITLE = "How can EU funds better support the labour-market integration of migrants and refugees?"
MAIN_TAGS = "#Integration #Employment #EUFunds"
MAIN_BRIEF = """\
## Context

Across the EU, cohesion policy funds finance a large share of the employment support offered
to migrants and refugees: the **European Social Fund Plus (ESF+)** above all, together with the
Asylum, Migration and Integration Fund (AMIF) and the ERDF for infrastructure. They pay for
vocational language courses, skills assessment, traineeships, job coaching and support to
employers. Yet practitioners tell us that these funds are hard to combine, that calls are often
designed without those who deliver the services, and that we still know too little about which
measures lead to lasting, good-quality jobs.

## What we ask

We invite managing authorities, local and regional authorities, civil society and migrant-led
organisations, social partners, employers and researchers to share **concrete experience** under
the three topics below: what worked, what did not, and what you would change. Short, specific
contributions are more useful than general statements. Links to evaluations or project pages
are welcome, and you may reply to and endorse the contributions of others.

## How your responses will be used

The hosts will summarise the discussion in a public synthesis report, which will feed into the
mid-term review of the 2021-2027 programmes and the preparation of the period after 2027.
Responses are public and shown with your name and organisation. Responses marked as made *on
behalf of* an organisation will be cited as that organisation's position; all others are
treated as personal views.

## Timeline

- **Responses:** until the closing date shown on this page
- **Online workshop with respondents:** about two weeks after closing
- **Synthesis report:** published within two months of closing
"""

MAIN_HOSTS = [
    consultations.HostInput("Helena Marquardt", "Consultation coordinator",
                            "European Network for Inclusive Cohesion Policy", ORGANISER_EMAIL),
    consultations.HostInput("Ioana Petrescu", "Rapporteur on labour-market integration",
                            "Advisory Group on Cohesion and Inclusion"),
    consultations.HostInput("Maren Solberg", "Independent evaluation expert", ""),
]

MAIN_TOPICS = [
    consultations.TopicInput(
        "Access to the labour market and recognition of skills",
        "How funded measures help newcomers find work that matches their skills, and what holds "
        "them back.",
        [
            "What are the main obstacles migrants and refugees face in finding work in your area, "
            "and which of them can EU-funded measures realistically address?",
            "How do skills assessment and the recognition of qualifications work in practice, "
            "and how could EU funds speed them up?",
            "Which combinations of language learning, vocational training and work experience "
            "have proved effective?",
            "How can measures reach people who are often left out, such as women, people with "
            "little schooling or people whose residence status is not yet settled?",
        ],
    ),
    consultations.TopicInput(
        "Partnership between managing authorities and civil society, including migrant-led "
        "organisations",
        "Who designs, selects and steers funded integration measures, and who can access the money.",
        [
            "How are civil society and migrant-led organisations involved in programming, "
            "monitoring committees and project selection today?",
            "What prevents small and migrant-led organisations from accessing EU funding "
            "(co-financing, pre-financing, reporting, eligibility rules)?",
            "Which tools have made access easier: simplified cost options, small grants schemes, "
            "intermediary bodies, capacity building?",
            "How can the partnership principle become meaningful rather than a formality?",
        ],
    ),
    consultations.TopicInput(
        "Monitoring, evaluation and lessons learnt",
        "Knowing whether funded measures lead to lasting, good-quality employment, and using "
        "what we learn.",
        [
            "Which indicators and data would show whether funded measures lead to lasting, "
            "good-quality employment?",
            "How can outcomes be followed over time while respecting data protection?",
            "Which evaluations or practices from your country should others know about?",
            "What should change in the next programming period?",
        ],
    ),
]

MAIN_RESPONSES = [
    # --- Topic 1: access to the labour market and skills recognition ---------------
    Response(1, "jonas", 20.6, "One front desk instead of five appointments", endorsements=9, body="""\
In Neuhafen we merged the jobcentre's integration team, the adult education centre and the \
advice service for foreign qualifications into a **single front desk** in 2022, co-financed by \
ESF+. Before, a newly arrived person needed on average five separate appointments in different \
buildings before any course started; now the first skills interview, the language placement and \
the recognition advice happen in the same week. The waiting time to a first offer fell from about \
14 to 5 weeks. The hard part was not money but data sharing between three different employers of \
staff, and EU funds could usefully pay for setting up that kind of joint case management, not \
only for courses.""", replies=[
        Reply("helena", 6, """\
Thank you, this is very concrete. Could you say a bit more about how you solved the data sharing \
between the three services? Did it need a legal change, or is it based on the participant's \
consent?""", replies=[
            Reply("jonas", 20, """\
No legal change was needed. We use a **consent form in 12 languages**, signed at the first \
interview, and a cooperation agreement between the three bodies; about 95% of people sign. The \
real work was agreeing which fields each service may see, which took six months of meetings with \
our data protection officers.""", endorsements=3),
        ]),
        Reply("lucia", 50, """\
This matches our experience. I would add that a single front desk needs **interpreters on call**, \
by phone or video, otherwise the one-stop shop quickly becomes a one-stop queue.""",
              endorsements=4, quote=True),
    ]),
    Response(1, "eva", 20.1, "Recognition is slow because it is built for full equivalence",
             endorsements=6, body="""\
Our interviews with 140 refugees holding university degrees show that full recognition procedures \
take 9 to 18 months, and many people give up on the way. What helped far more was **partial \
recognition**: a statement of which parts of a qualification are equivalent, followed by a \
targeted bridging course. We would suggest that programmes:

- fund bridging courses for regulated professions (nursing, teaching, engineering) as a standard measure;
- allow the validation of non-formal learning for people who cannot produce their documents;
- cover the recognition fee itself, which is still several hundred euros in many places.""", replies=[
        Reply("ahmad", 26, """\
Fully agree on partial recognition. One of our members, a civil engineer, waited 14 months for a \
decision that simply said "not equivalent", without saying which exams he could take to close the \
gap. A **gap analysis with a clear path** would already help a lot.""", endorsements=3, replies=[
            Reply("eva", 8, """\
Exactly. Some member states already issue decisions that list compensation measures; the problem \
is that the bridging courses needed to complete them are rarely offered. That is precisely the gap \
ESF+ could fill."""),
        ]),
    ]),
    Response(1, "katarzyna", 19.2, "Employers need a contact point, not more brochures",
             endorsements=5, on_behalf=True, body="""\
Our member companies in food processing and logistics have vacancies they cannot fill, and many \
would hire refugees. What stops them is uncertainty: which permits are needed, who pays for \
language training during working hours, what to do when a worker's status changes. A funded \
**employer contact point** in each region, with one named adviser, would do more than another \
awareness campaign. We also ask that ESF+ measures allow training *inside* companies, partly paid \
by the employer, and not only classroom courses before employment."""),
    Response(1, "amina", 18.0, "Language first, work later does not work for everyone",
             endorsements=8, body="""\
Many of the women we support in Lyon spend two or three years in successive language courses \
without ever meeting an employer. By the time they finish, they have lost confidence and their \
earlier work experience is far behind them. In our experience, programmes that combine a **work \
placement from the first months with job-specific French** (cleaning, childcare, catering, care \
work) get much better results. Funders should stop requiring a minimum language level before \
people can join vocational measures.""", replies=[
        Reply("katarzyna", 24, """\
Our members would support this. In practice the obstacle is insurance and health and safety rules \
for placements of people with limited language skills; clear guidance on that would remove an \
excuse many employers use.""", endorsements=2, quote=True),
        Reply("marco", 47, """\
Same in Italy. We call it *italiano per il lavoro*: taught at the workplace by a trainer together \
with the supervisor. It costs more per hour than a classroom course, but people stay in the job.""",
              endorsements=3),
    ]),
    Response(1, "giulia", 16.9, "Tirocini e accompagnamento: l'esperienza del programma regionale",
             endorsements=4, body="""\
Nel nostro programma regionale FSE+ abbiamo finanziato oltre 600 **tirocini di inclusione** per \
titolari di protezione internazionale, con un'indennità mensile e un tutor aziendale formato. \
Circa il 40% dei tirocini si è trasformato in un contratto, ma quasi sempre a tempo determinato. \
Il punto critico è il periodo dopo il tirocinio: servirebbe poter finanziare anche un \
accompagnamento di 6-12 mesi dopo l'assunzione, che oggi non rientra nei costi ammissibili del \
nostro avviso.""", replies=[
        Reply("marco", 10, """\
Confermo. Molte delle persone che abbiamo seguito hanno perso il lavoro nei primi mesi per problemi \
risolvibili: turni, trasporti, un conflitto con un collega. Un **accompagnamento \
post-assunzione** anche leggero, per esempio una telefonata al mese con il tutor, farebbe la \
differenza.""", endorsements=2, replies=[
            Reply("giulia", 22, """\
Grazie Marco. Stiamo valutando di inserirlo come costo unitario nel prossimo avviso: se avete dati \
sui motivi delle interruzioni, ci sarebbero molto utili."""),
        ]),
    ]),
    Response(1, "ahmad", 15.3, "Overqualified and invisible", endorsements=7, body="""\
Our network includes doctors, engineers and IT specialists from Afghanistan, Syria and Iran who \
now work in delivery, cleaning or warehouses. Because their papers are not recognised, the system \
treats them as low-skilled and offers them the same courses as everyone else. We propose \
**mentoring by professionals of the same field**, and funding migrant-led networks to organise \
it: we know the people, we speak their languages, and we reach those who never walk into a public \
office.""", replies=[
        Reply("niamh", 14, """\
We run a similar mentoring scheme with a professional body for engineers. The mentors were \
volunteers at first, and it only became sustainable once the **coordination role was paid**. \
Worth planning for from the start.""", endorsements=2),
    ]),
    Response(1, "sofia", 12.8, "Reaching people who live far from the programmes",
             endorsements=3, body="""\
In Greece many refugees still live in camps or temporary housing outside the cities, with poor \
public transport, while employment programmes run in Athens or Thessaloniki. People simply cannot \
travel there every day. In our pilot, mobile job counselling teams and **transport and childcare \
allowances as eligible costs** made the biggest difference (see our short \
[project note](https://example.org/employment-pathways-note)). People whose asylum claim is still \
pending should also be able to join measures once they are legally allowed to work."""),
    Response(1, "pieter", 9.4, "The quality of jobs matters, not only placement rates",
             endorsements=6, on_behalf=True, body="""\
As a union we see many refugees placed in temporary agency work on very short contracts, and \
cases of underpayment and abuse, especially in cleaning and meat processing. EU-funded \
programmes should not count a two-week agency contract as a success. We ask that funded measures \
include **information on labour rights** in the person's own language, and that trade unions take \
part as funded partners in induction sessions. Workers who know their rights are better protected \
against exploitation by intermediaries.""", replies=[
        Reply("ana", 28, """\
As an employer I agree that agency contracts are not integration. But seasonal work is not always \
precarious work: for many of our staff a summer contract was the first step to a permanent job. \
Indicators should look at the whole path, not only at the first contract.""",
              endorsements=2, quote=True, replies=[
            Reply("pieter", 5, """\
Fair point, and that is why we support the **12- and 24-month follow-up** proposed under Topic 3. \
A seasonal contract that leads somewhere is fine; a series of two-week contracts is not.""",
                  endorsements=3),
        ]),
    ]),
    Response(1, "ana", 6.2, "What worked for us as an employer", endorsements=2, body="""\
Our hotels in the Algarve hired 35 refugees and migrants over two seasons through a programme of \
the public employment service. What made it work:

- a paid four-week **trial period with a mentor colleague**;
- Portuguese lessons during working hours;
- help with finding housing, which is the biggest problem for seasonal workers here.

What did not work: the hiring subsidy took five months to be paid, which a small employer cannot \
afford."""),
    Response(1, "lucia", 1.3, "Digital skills profiling: useful, with limits", endorsements=1, body="""\
We tested the EU Skills Profile Tool for Third Country Nationals in three of our employment \
offices. It helps to structure the first interview and exists in many languages, but counsellors \
found it long and some clients could not complete it alone. It works best as a **conversation \
guide used together with a counsellor**, not as a self-service form."""),

    # --- Topic 2: partnership ---------------------------------------------------
    Response(2, "marco", 20.3, "Co-financing and pre-financing shut out small organisations",
             endorsements=9, body="""\
We are a social cooperative with 40 staff and have run ESF and AMIF projects for ten years. Each \
project requires us to pre-finance activities for 12 to 18 months before the first payment, and \
regional calls ask for 10 to 20 percent co-financing. Large organisations cope; small ones, and \
migrant-led associations in particular, cannot. Concrete proposals:

1. advance payments of at least 30 percent at signature;
2. **simplified cost options**, such as unit costs per participant, instead of invoices for every expense;
3. no co-financing requirement for grants below 100,000 euros.""", replies=[
        Reply("amina", 4, """\
Same problem in France. Our association had to take a bank loan to pre-finance an ESF+ project, \
and the bank asked for a personal guarantee from our president. **Advance payments** would be the \
single most important change for us.""", endorsements=5),
        Reply("tomas", 26, """\
On simplified cost options: they are already possible under the regulation, and some \
programmes use them widely. The obstacle is often national, because the methodology has to be \
justified and approved and authorities fear audit findings. A set of **ready-made EU-level unit \
costs** for integration measures would help.""", endorsements=4, quote=True, replies=[
            Reply("marco", 9, """\
That would be very welcome. Our region already has unit costs per hour of training, but not for \
counselling or mediation, which is most of what we do.""", endorsements=1),
        ]),
    ]),
    Response(2, "lucia", 19.6, "Small grants through an intermediary body", endorsements=6, body="""\
Our region delegated part of its ESF+ integration priority to an **intermediary body**, a \
foundation that runs a small grants scheme of 10,000 to 60,000 euros with a two-page application \
and lump-sum payments. In the first call, 23 of the 41 funded projects were run by organisations \
that had never received EU funding, nine of them migrant-led. The managing authority keeps the \
audit responsibility, which is why agreeing the control system took two years. We are happy to \
share our description of the management and control arrangements with other authorities."""),
    Response(2, "amina", 17.4, "Being consulted is not the same as being a partner",
             endorsements=8, on_behalf=True, body="""\
Migrant-led organisations are usually invited to one consultation meeting once the programme is \
already written. We are rarely members of monitoring committees, and when we are, the documents \
arrive in technical language two days before the meeting. Real partnership would mean:

- a **seat with voting rights** in the monitoring committee for a network of migrant-led organisations;
- paid time to prepare, since most of our members are volunteers;
- co-designing calls *before* they are published, not commenting on them afterwards.""", replies=[
        Reply("giulia", 27, """\
Speaking as a managing authority, I agree about the documents: see my post under this topic on \
what we changed. The composition of the committee is set by national rules, but giving the seat \
to a **network** rather than to a single organisation is a good idea.""", endorsements=2),
        Reply("helena", 46, """\
Thank you. For the synthesis report: would migrant-led organisations rather be represented by one \
EU-level network, or by national and regional ones? Views from other respondents are welcome too.""",
              replies=[
            Reply("ahmad", 6, """\
National or regional, because that is where the decisions are taken. An EU-level network is \
useful for exchange, but it cannot follow every monitoring committee.""", endorsements=2),
        ]),
    ]),
    Response(2, "tomas", 16.0, "Why authorities are cautious", endorsements=3, body="""\
I understand the frustration, but it is worth explaining why managing authorities are cautious. \
Every error auditors find becomes a financial correction for the whole programme, so staff prefer \
a few large beneficiaries with strong administrative capacity. If more small and grassroots \
beneficiaries are wanted, the rules must accept a **different risk profile** for small grants: \
for example wider use of financing not linked to costs, or a lighter audit sample for grants \
below a threshold.""", replies=[
        Reply("sofia", 25, """\
This is honest and helpful. Part of the answer may be that small grants are managed by \
intermediaries able to carry the administrative risk, as in the example from Spain above.""",
              endorsements=1),
    ]),
    Response(2, "niamh", 14.1, "Capacity building that actually helped", endorsements=5, body="""\
We ran a one-year programme to help six migrant-led groups apply for funding. Workshops on how to \
write a project were the least useful part. What helped was **pairing each group with an \
experienced organisation** as lead partner for a first project, with a clear plan to hand over \
leadership in the second, and paying the migrant-led partner's staff from day one. Two of the six \
groups now apply on their own."""),
    Response(2, "giulia", 11.7, "Opening the monitoring committee: what we changed",
             endorsements=2, body="""\
In 2023 we opened our monitoring committee to a representative of the regional network of migrant \
associations. The first meetings were difficult, mostly because of the jargon on our side. We now \
hold a short **preparatory briefing** for all civil society members before each meeting and \
publish a plain-language summary of every agenda item. It costs us very little, and the \
discussion has clearly improved."""),
    Response(2, "sofia", 8.3, "Stable funding instead of project cycles", endorsements=4, body="""\
Most NGOs working on refugee employment live from one 18-month project to the next. Each time a \
project ends, trained staff leave and the relationships built with employers are lost. We propose \
**multi-annual operating grants** of at least four years for organisations that deliver core \
integration services, with regular performance reviews, instead of competitive calls every year."""),
    Response(2, "jonas", 4.9, "Municipalities are missing from the table too", endorsements=3, body="""\
A point that is often missed: municipalities are not partners in most national ESF+ programmes \
either, although they run the integration offices, housing and childcare. The national programme \
decides, and we apply as a beneficiary like anyone else. A **territorial strand**, in which cities \
and their local civil society partners set priorities together, would suit integration much \
better than one national call."""),
    Response(2, "ana", 0.8, "Employers should be at the table as well", body="""\
Private employers are almost never part of these discussions, yet we are the ones who hire. Most \
companies I know do not even know that ESF+ programmes exist in their region. I would suggest \
inviting **employers' associations and a few individual companies** to help design calls, \
especially in sectors with labour shortages, so that training matches real vacancies."""),

    # --- Topic 3: monitoring and evaluation --------------------------------------
    Response(3, "eva", 18.6, "Measure employment at 12 and 24 months, not at exit",
             endorsements=8, body="""\
The common ESF+ result indicators mostly look at the situation right after a person leaves a \
measure, or six months later. For migrants and refugees the path to stable work is longer, and \
short-term placements hide a lot of churn. We recommend:

- a follow-up at **12 and 24 months** using administrative data (social security and tax registers) rather than surveys;
- indicators on job quality: type of contract, working hours, pay relative to qualification;
- breakdowns by gender and, where the law allows, by residence status.""", replies=[
        Reply("tomas", 22, """\
We agree in principle. See my post on linking registers: it is feasible, but only if it is planned \
early.""", endorsements=1, quote=True),
        Reply("helena", 44, """\
Several respondents mention administrative data. Does anyone have experience of following people \
who move to another member state? At the moment their outcomes are simply lost.""", replies=[
            Reply("eva", 23, """\
Only partly. The Nordic countries exchange some register data, but in general cross-border \
follow-up is not possible today. The **European Social Security Pass** pilots may help in future.""",
                  endorsements=1),
        ]),
    ]),
    Response(3, "tomas", 17.1, "Linking registers: legally possible, practically hard",
             endorsements=4, body="""\
We linked ESF participant data with the social security register to follow outcomes over two \
years. The legal basis existed, but agreeing the data processing arrangements between three \
institutions and the data protection authority took almost two years. Our lesson: plan data \
linking **when the programme is designed**, use a standard legal template, and budget for it \
under technical assistance."""),
    Response(3, "lucia", 13.5, "Counterfactual evaluation of our intermediation service",
             endorsements=5, body="""\
We commissioned a counterfactual impact evaluation of our labour intermediation service for \
third-country nationals, comparing participants with similar registered jobseekers who did not \
take part. After 18 months the effect on employment was **+11 percentage points**, much stronger \
for women (+16) than for men (+7). The most useful finding was that the effect came mainly from \
direct contacts with employers, not from the training modules. An English summary is available \
from the employment service on request.""", replies=[
        Reply("jonas", 20, """\
Very interesting, especially the point about direct contacts with employers. Was the difference \
for women explained?""", replies=[
            Reply("lucia", 7, """\
Mostly by childcare. The service could pay a **childcare allowance** during interviews and the \
first weeks of work, and women used it. Without it, many were simply not available for job offers.""",
                  endorsements=3),
        ]),
    ]),
    Response(3, "marco", 12.0, "Valutare con i partecipanti, non solo sui partecipanti",
             endorsements=3, body="""\
Le valutazioni che abbiamo visto finora misurano quanti partecipanti hanno trovato lavoro, ma \
quasi mai chiedono ai partecipanti che cosa ha funzionato. Nel nostro ultimo progetto abbiamo \
coinvolto otto ex partecipanti come **valutatori alla pari**: hanno condotto interviste nelle \
loro lingue e hanno individuato problemi che noi non vedevamo, per esempio orari dei corsi \
incompatibili con il lavoro a turni. Proponiamo di riservare una parte del budget di valutazione \
a metodi partecipativi."""),
    Response(3, "ahmad", 10.2, "Data should come back to the communities", endorsements=4, body="""\
Organisations like ours fill in monitoring forms for every participant, including sensitive \
information, and we never see the results. It would build trust if aggregated results were \
**published and shared back** with the organisations and communities that provided the data, in \
an accessible form. People are also more willing to give information when they know what it is \
used for."""),
    Response(3, "niamh", 7.7, "The evaluation nobody read", endorsements=2, body="""\
Our national employment pilot for refugees produced a very good final evaluation. Almost none of \
its recommendations appeared in the next call, because the people who wrote the call had not seen \
it. A simple fix: require each new call to include a short section on **what earlier evaluations \
found** and how the call responds to it.""", replies=[
        Reply("katarzyna", 25, """\
Very true, and the same happens with employers: each new project contacts our members as if \
nothing had been done before.""", endorsements=1),
    ]),
    Response(3, "pieter", 5.6, "Put working conditions into the indicators", endorsements=3, body="""\
We agree with the proposals on job quality. We would add two indicators: whether the job is \
covered by a **collective agreement**, and whether the person is still with the same employer \
after a year. Both are available in administrative data in most member states, and they say much \
more about lasting integration than a count of participants in employment."""),
    Response(3, "katarzyna", 3.4, "Ask the employers too", endorsements=1, body="""\
Evaluations rarely ask employers. We surveyed 60 member companies that hired refugees through \
funded programmes: 70 percent were satisfied, but half said the support stopped exactly when \
problems appeared, usually in the first three months of employment. A short **employer survey \
after six months** would be cheap and would show where programmes lose people."""),
    Response(3, "sofia", 2.1, "A shared library of evaluations", endorsements=2, body="""\
It is very hard to find evaluations from other member states, and many exist only in national \
languages. Could the Commission, or the ESF+ community of practice, keep a **searchable \
repository** of evaluations of integration measures, each with a short English summary? It would \
save everyone time and help smaller organisations argue for approaches already tested \
elsewhere.""", replies=[
        Reply("eva", 18, """\
+1, and include **evaluation plans** as well as final reports, so that people can see what is \
being studied before the results come out.""", endorsements=1),
    ]),
]

# A fourth topic of the open consultation is a proposal: its responses take a stance, which
# differ by stakeholder group (civil society mostly in favour, authorities split, employers
# against), so that the page's counts and its table by country and organisation type say
# something (docs/stances.md).
MAIN_PROPOSAL = consultations.TopicInput(
    "Proposal: a small-grants window for migrant-led and community organisations",
    "Each programme reserves 10% of its integration budget for grants of up to EUR 60,000, with "
    "simplified costs, 90% pre-financing and a two-page application, run by an intermediary body "
    "whose selection panel includes migrant-led organisations. Are you in favour, neutral or against?",
    [
        "Would this window reach organisations that cannot apply today?",
        "What would make it work, or fail, in your programme or country?",
    ],
    is_proposal=True,
)

PROPOSAL_RESPONSES = [
    Response(4, "amina", 11.2, "Finally money we can actually apply for", endorsements=7, stance="in_favour", body="""\
We gave up on ESF+ calls twice because we could not pre-finance a year of salaries. With 90% \
paid up front and a two-page application, associations like ours could run the mentoring we \
already do on volunteer time. A panel with migrant-led organisations on it would also make \
selection less of a black box.""", replies=[
        Reply("giulia", 30, """\
I understand the pre-financing problem, and our region could lower the threshold. My concern is \
the fixed 10%: some programmes have very small integration budgets, and the audit trail for \
hundreds of small grants is not free."""),
        Reply("amina", 6, """\
Then let the intermediary body carry the audit work, as the proposal says. That is exactly the \
job small organisations cannot do alone.""", endorsements=2),
    ]),
    Response(4, "ahmad", 9.8, "Mentoring needs steady, small money", endorsements=4, stance="in_favour", body="""\
Our mentors are engineers, nurses and teachers who arrived years ago. What we need is small, \
predictable funding for coordination, not a large project every four years. Grants up to \
EUR 60,000 are the right size for that."""),
    Response(4, "marco", 9.1, "Yes, with a capacity-building strand", endorsements=3, stance="in_favour", body="""\
In favour. In our experience the first grant is the hardest: the window should come with a \
helpdesk and a short training on reporting, or the same three organisations will win every \
year."""),
    Response(4, "sofia", 8.4, "It worked in Greece on a smaller scale", endorsements=3, stance="in_favour", body="""\
A foundation-run small grants scheme in Athens funded 14 community groups in two years; ten of \
them are still active. The **intermediary body** is what made it work: one contact person, \
one set of rules."""),
    Response(4, "pieter", 7.6, "In favour, if the jobs are decent", endorsements=2, stance="in_favour", body="""\
We support it, on one condition: grants that place people in work should check the quality of \
the jobs (contracts, hours, pay), not only the number of placements."""),
    Response(4, "niamh", 6.9, "Simplified costs are the key", endorsements=2, stance="in_favour", body="""\
Unit costs per participant would cut our reporting by half. We would also ask for multi-annual \
grants: a one-year grant spends three months starting and three months closing."""),
    Response(4, "jonas", 6.2, "Open to it, but involve the municipalities", endorsements=2, stance="neutral", body="""\
Municipalities already fund many of these organisations. A separate window run by an \
intermediary could duplicate our local grants unless the two are planned together. Neutral \
for now: it depends on who the intermediary is."""),
    Response(4, "eva", 5.5, "Build the evaluation in from the start", endorsements=2, stance="neutral", body="""\
Evidence on small grants is thin, in both directions. If the window is tried, a share of it \
should fund a comparison of funded and unfunded organisations, so that the next period can \
decide on more than anecdotes."""),
    Response(4, "lucia", 4.8, "Useful, but 10% is arbitrary", endorsements=1, stance="neutral", body="""\
Our employment service would welcome more community partners. A fixed share for every \
programme is arbitrary, though: the size should follow the needs assessment of each region."""),
    Response(4, "ana", 4.1, "Neutral: we would like to be partners", endorsements=1, stance="neutral", body="""\
Hotels in our region would host trainees from community organisations. The proposal says \
nothing about employers as partners; it should, or the grants will end at the training stage."""),
    Response(4, "giulia", 3.5, "Against a fixed share", endorsements=2, stance="against", body="""\
Against, as written. We can make our calls easier to access without ring-fencing: simplified \
costs and pre-financing are already possible under the current rules. A fixed 10% would take \
money from measures that work because they are larger."""),
    Response(4, "tomas", 2.7, "The rules already allow it", endorsements=1, stance="against", body="""\
Small grants schemes through intermediary bodies are allowed today, and some programmes use \
them. Making them compulsory at a fixed share is a decision for each partnership agreement, not \
a rule for all."""),
    Response(4, "katarzyna", 1.9, "Employers should be able to apply too", endorsements=1, stance="against", body="""\
We are against a window reserved for one kind of organisation. Training that leads to a job \
usually involves an employer; employers' associations should be able to apply, alone or in \
partnership."""),
]


CLOSED_TITLE = "Language learning for adult newcomers: which course models lead to work?"
CLOSED_TAGS = "#Integration #Language #Employment"
CLOSED_BRIEF = """\
Language is the first step of almost every integration pathway, and a large part of the funding.
This consultation asked practitioners which course models help adult newcomers move into work,
and how language provision should be funded and organised.

The consultation is **closed**. A summary of the responses was presented at the network's
annual meeting; the responses remain available here for reference.
"""
CLOSED_DAYS = (130, 88)     # opened and closed this many days ago
CLOSED_TOPICS = [
    consultations.TopicInput(
        "Course models and their results",
        "",
        [
            "Which course models have helped learners move into work?",
            "How should courses adapt to learners with very different levels of schooling?",
        ],
    ),
    consultations.TopicInput(
        "Funding and organisation of language provision",
        "",
        [
            "How should providers be funded and paid?",
            "What support (childcare, transport, online formats) makes attendance possible?",
        ],
    ),
]
# days_ago here counts days after the consultation opened.
CLOSED_RESPONSES = [
    Response(1, "eva", 3.2, "Vocational tracks keep learners motivated", endorsements=4, body="""\
Where language courses are combined with a vocational track, such as care assistant or bus \
driver, completion rates are clearly higher than in general courses, because learners see where \
the course leads. The limiting factor is the number of teachers with both a language and a \
vocational background."""),
    Response(1, "jonas", 5.5, "One speed does not fit all", endorsements=5, body="""\
Our integration courses follow a national curriculum with a fixed number of hours. For learners \
with little schooling it is too fast, for graduates too slow. **Modular courses** that people can \
enter at different points would serve both groups better.""", replies=[
        Reply("ahmad", 30, """\
Agreed. Many of our members with university degrees were bored and dropped out; a fast track for \
them would also free places for others.""", endorsements=2),
    ]),
    Response(2, "giulia", 9.0, "Childcare belongs in the same measure", endorsements=3, body="""\
Funding language courses through ESF+ is straightforward; funding childcare during the courses is \
not, because it needs a separate call. **Combined measures** that pay for both would raise the \
attendance of mothers considerably."""),
    Response(1, "amina", 14.4, "Conversation groups between courses", endorsements=2, body="""\
Volunteer conversation groups run by our members keep people practising between formal courses. \
They cost almost nothing and should count as part of the pathway, for example towards attendance \
requirements."""),
    Response(2, "lucia", 21.7, "Results-based payment: weight it for beginners", endorsements=6, body="""\
We pay providers partly on results: a share of the fee depends on the learner passing a certified \
exam. Quality improved, but some providers began to select the easier learners. If you use \
results-based payment, weight it in favour of **learners with lower starting levels**.""", replies=[
        Reply("tomas", 40, """\
A useful warning. We saw the same creaming effect in another results-based scheme.""",
              endorsements=1),
    ]),
    Response(2, "niamh", 33.0, "Online suits shift workers, not beginners", endorsements=1, body="""\
Online courses still suit people who work shifts, but they do not work for beginners with limited \
digital skills. Blended formats with one in-person class a week have worked best for us."""),
]


DRAFT_TITLE = "Digital tools for skills profiling and job matching of third-country nationals"
DRAFT_TAGS = "#Skills #Digital #Integration"
DRAFT_BRIEF = """\
*Draft, not yet published.* Employment services increasingly use digital tools to record the
skills of newcomers and to match them with vacancies. This consultation will collect experience
with such tools: what they add, whom they leave out, and what safeguards they need.
"""
DRAFT_TOPICS = [
    consultations.TopicInput(
        "Experience with current tools",
        "",
        [
            "Which tools do you use to record skills and match people with vacancies?",
            "Who finds them hard to use, and what support helps?",
        ],
    ),
    consultations.TopicInput(
        "Safeguards and data protection",
        "",
        [
            "What information should never be collected or used for matching?",
            "How should people be able to see and correct their profile?",
        ],
    ),
]


# --- Loading ------------------------------------------------------------------------

@dataclass
class DemoLogins:
    accounts: list[tuple[str, str, str]]  # (role, email, password)
    event: EventLogins
    ended: OtherEventLogins
    upcoming: OtherEventLogins


def load_demo() -> DemoLogins | None:
    """Create the demo when the database holds no account yet; return the logins to print.

    Returns None, and writes nothing, when any account exists.
    """
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return None
    with _one_hash_per_password():
        return _load(utcnow())


def _load(now: datetime) -> DemoLogins:
    rng = random.Random(SEED)

    admin = _register(ADMIN, ADMIN_PASSWORD)
    accounts.set_roles(None, admin, admin=True, organiser=True)
    organiser = _register(ORGANISER, ORGANISER_PASSWORD)
    accounts.set_roles(None, organiser, organiser=True)
    people = {ORGANISER.key: organiser}
    for person in PARTICIPANTS:
        people[person.key] = _register(person, PARTICIPANT_PASSWORD)
    endorsers = [people[p.key] for p in PARTICIPANTS]

    admin.created_at = now - timedelta(days=200)
    organiser.created_at = now - timedelta(days=190)
    for person in PARTICIPANTS:
        people[person.key].created_at = now - timedelta(days=rng.uniform(140, 185), hours=rng.uniform(0, 24))

    # The closed one first: it is the oldest, and must be open while its responses are written.
    closed = _closed_consultation(organiser, people, endorsers, rng, now)
    main = _open_consultation(organiser, people, endorsers, rng, now)
    draft = _draft_consultation(organiser, now)
    for consultation, days in ((closed, 140), (main, 30), (draft, 2)):
        consultation.created_at = consultation.updated_at = now - timedelta(days=days)

    _date_endorsements(rng, now)
    event = _live_event(organiser, people, now)
    ended = _ended_event(organiser, people, now)
    upcoming = _upcoming_event(organiser, people, now)
    _statements_board(organiser, main, people, now)
    db.session.flush()
    _demo_polls(organiser, people, main, now)
    # Every account here is the demo's (it loads only into an empty database): their
    # addresses count as confirmed, so that its people can be sent notifications.
    db.session.execute(update(User).values(email_verified_at=now))
    # What the demo's people were told before now was mailed to them then (registrations and
    # reminders of events weeks ago, ...): nothing is sent again once the demo is stored.
    db.session.execute(update(Notification).where(Notification.emailed_at.is_(None))
                       .values(emailed_at=Notification.created_at))

    return DemoLogins([
        ("Admin", ADMIN_EMAIL, ADMIN_PASSWORD),
        ("Organiser", ORGANISER_EMAIL, ORGANISER_PASSWORD),
        ("Participant", PARTICIPANTS[2].email, PARTICIPANT_PASSWORD),
        ("Participant", PARTICIPANTS[0].email, PARTICIPANT_PASSWORD),
    ], event, ended, upcoming)


@contextmanager
def _one_hash_per_password():
    """Accounts sharing a demo password share its hash: scrypt costs about 150 ms a call and
    the demo creates some 60 accounts with 4 passwords. Logging in is unaffected (a hash
    carries its own salt and method); these passwords are printed for all to use anyway."""
    import forum.models.users as users

    original = users.generate_password_hash
    hashes: dict[str, str] = {}

    def shared(password: str, *args, **kwargs) -> str:
        if password not in hashes:
            hashes[password] = original(password, *args, **kwargs)
        return hashes[password]

    users.generate_password_hash = shared
    try:
        yield
    finally:
        users.generate_password_hash = original


def _register(person: Person, password: str) -> User:
    codes = accounts.organisation_type_codes()
    organisation_type = person.organisation_type
    if organisation_type not in codes:
        # A deployment may narrow the list (ORGANISATION_TYPES); fall back rather than fail.
        organisation_type = "other" if "other" in codes else codes[0]
    language = person.language if person.language in current_app.config["LANGUAGES"] else "en"
    return accounts.register(person.email, password, accounts.Profile(
        display_name=person.name, organisation=person.organisation,
        organisation_type=organisation_type, country=person.country,
        role_title=person.role_title, preferred_language=language, timezone=person.timezone,
    ))


def _setup(organiser: User, title: str, brief: str, tags: str, opens_at: datetime,
           closes_at: datetime, topics: list[consultations.TopicInput],
           hosts: list[consultations.HostInput]) -> Consultation:
    consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
        title=title, brief=brief, tags=tags, opens_at=opens_at, closes_at=closes_at))
    for topic in topics:
        consultations.add_topic(organiser, consultation, topic)
    for host in hosts:
        consultations.add_host(organiser, consultation, host)
    return consultation


def _open_consultation(organiser: User, people: dict[str, User], endorsers: list[User],
                       rng: random.Random, now: datetime) -> Consultation:
    consultation = _setup(organiser, MAIN_TITLE, MAIN_BRIEF, MAIN_TAGS,
                          now - timedelta(days=21, hours=3), now + timedelta(days=24),
                          MAIN_TOPICS, MAIN_HOSTS)
    consultations.set_status(organiser, consultation, "open")
    _write_posts(consultation, MAIN_RESPONSES, people, endorsers, rng,
                 start=now, direction=-1, latest=now - timedelta(minutes=20))
    _add_proposal(organiser, consultation, people, endorsers, rng, now)
    return consultation


def _add_proposal(organiser: User, consultation: Consultation, people: dict[str, User], endorsers: list[User],
                  rng: random.Random, now: datetime) -> None:
    """The open consultation's proposal topic and its responses, each with a stance."""
    consultations.add_topic(organiser, consultation, MAIN_PROPOSAL)
    _write_posts(consultation, PROPOSAL_RESPONSES, people, endorsers, rng,
                 start=now, direction=-1, latest=now - timedelta(minutes=20))


def _closed_consultation(organiser: User, people: dict[str, User], endorsers: list[User],
                         rng: random.Random, now: datetime) -> Consultation:
    opens_at = now - timedelta(days=CLOSED_DAYS[0])
    closes_at = now - timedelta(days=CLOSED_DAYS[1])
    hosts = [MAIN_HOSTS[0], consultations.HostInput(
        "Claire Vandenberghe", "Senior adviser on adult education", "Adult Learning Platform Europe")]
    # Opening needs a closing time in the future; the real one is set once it is closed.
    consultation = _setup(organiser, CLOSED_TITLE, CLOSED_BRIEF, CLOSED_TAGS,
                          opens_at, now + timedelta(days=1), CLOSED_TOPICS, hosts)
    consultations.set_status(organiser, consultation, "open")
    _write_posts(consultation, CLOSED_RESPONSES, people, endorsers, rng,
                 start=opens_at, direction=1, latest=closes_at - timedelta(hours=2))
    consultations.set_status(organiser, consultation, "closed")
    consultations.update_consultation(organiser, consultation, consultations.ConsultationInput(
        title=CLOSED_TITLE, brief=CLOSED_BRIEF, tags=CLOSED_TAGS,
        opens_at=opens_at, closes_at=closes_at))
    return consultation


def _draft_consultation(organiser: User, now: datetime) -> Consultation:
    return _setup(organiser, DRAFT_TITLE, DRAFT_BRIEF, DRAFT_TAGS,
                  now + timedelta(days=14), now + timedelta(days=56), DRAFT_TOPICS, MAIN_HOSTS[:1])


@dataclass
class _Planned:
    when: datetime
    order: int
    spec: Response | Reply
    parent: _Planned | None = None
    post: Post | None = None


def _write_posts(consultation: Consultation, responses: list[Response], people: dict[str, User],
                 endorsers: list[User], rng: random.Random, *, start: datetime, direction: int,
                 latest: datetime) -> None:
    """Write the responses and their replies in the order they were (notionally) posted,
    then date them: a response `days_ago` before (or after) `start`, a reply some hours after
    the post it answers, nothing later than `latest`."""
    planned: list[_Planned] = []

    def plan_replies(parent: _Planned, replies: list[Reply]) -> None:
        for reply in replies:
            when = parent.when + timedelta(hours=reply.hours_after, minutes=rng.randint(0, 50))
            if when > latest:
                when = parent.when + (latest - parent.when) / 2
            item = _Planned(when, len(planned), reply, parent)
            planned.append(item)
            plan_replies(item, reply.replies)

    for response in responses:
        offset = timedelta(days=response.days_ago, minutes=rng.randint(-40, 40))
        item = _Planned(start + direction * offset, len(planned), response)
        planned.append(item)
        plan_replies(item, response.replies)

    planned.sort(key=lambda p: (p.when, p.order))
    topics = {t.position: t for t in consultation.topics}
    for item in planned:
        spec = item.spec
        author = people[spec.author]
        if isinstance(spec, Response):
            item.post = posts.create_post(
                author, consultation, body=spec.body, subject=spec.subject,
                topic_id=topics[spec.topic].id, on_behalf_of_organisation=spec.on_behalf, stance=spec.stance)
        else:
            parent = item.parent.post
            item.post = posts.create_post(author, consultation, body=spec.body, parent=parent, quote=spec.quote)
        item.post.created_at = item.when
        others = [u for u in endorsers if u.id != author.id]
        for endorser in rng.sample(others, min(spec.endorsements, len(others))):
            posts.endorse(endorser, item.post)
    db.session.flush()


def _date_endorsements(rng: random.Random, now: datetime) -> None:
    """Give each endorsement a time between its post's and the end of the consultation."""
    rows = db.session.execute(
        select(Endorsement, Post.created_at, Consultation.closes_at)
        .join(Post, Post.id == Endorsement.post_id)
        .join(Consultation, Consultation.id == Post.consultation_id)
        .order_by(Endorsement.id)
    ).all()
    for endorsement, posted_at, closes_at in rows:
        end = min(now, closes_at) if closes_at else now
        endorsement.created_at = posted_at + (end - posted_at) * rng.uniform(0.02, 0.6)


# --- Live event ---------------------------------------------------------------------
#
# A half-finished online event: the plenary and four breakout rooms. Rooms 1 and 2 used a
# short format and have closed with their takeaways (so the plenary shows report-back
# cards); rooms 3 and 4 are still talking.

MODERATOR_PASSWORD = "plenary-moderator-demo"

EVENT_TITLE = "Welcoming cities: designing integration support with migrant-led organisations"

# Everyone else taking part, besides the consultations' participants (PARTICIPANTS).
EVENT_PARTICIPANTS = [
    Person("chiara", "chiara.montanari@comune-valdarena.example", "Chiara Montanari",
           "Comune di Valdarena – Servizi sociali e accoglienza", "local_authority", "IT",
           "Responsabile accoglienza", "it", "Europe/Rome"),
    Person("kwame", "kwame.asante@nuoveradici.example", "Kwame Asante",
           "Associazione Nuove Radici", "migrant_led", "IT", "President", timezone="Europe/Rome"),
    Person("federico", "federico.sala@unicastelvetro.example", "Federico Sala",
           "University of Castelvetro – Department of Social Sciences", "research", "IT",
           "Associate professor of sociology", timezone="Europe/Rome"),
    Person("mehmet", "mehmet.yildiz@brueckenbauer-ostwald.example", "Mehmet Yıldız",
           "Brückenbauer Ostwald e.V.", "migrant_led", "DE", "Managing director",
           timezone="Europe/Berlin"),
    Person("anna", "anna.hoffmann@integration-nordmark.example", "Anna Hoffmann",
           "State Office for Integration of Nordmark", "regional_authority", "DE",
           "Head of the funding unit", timezone="Europe/Berlin"),
    Person("lars", "lars.brenner@hwk-eichental.example", "Lars Brenner",
           "Chamber of Crafts Eichental", "employers", "DE", "Adviser on foreign qualifications",
           timezone="Europe/Berlin"),
    Person("fatima", "fatima.haddad@jobcenter-lindenhall.example", "Fatima Haddad",
           "Lindenhall District Jobcentre", "local_authority", "DE", "Team leader, newcomers",
           timezone="Europe/Berlin"),
    Person("claire", "claire.dubois@metropole-valrive.example", "Claire Dubois-Martin",
           "Métropole de Valrive – Direction de la cohésion sociale", "local_authority", "FR",
           "Cheffe de projet intégration", "fr", "Europe/Paris"),
    Person("youssef", "youssef.benali@fitg-valrive.example", "Youssef Benali",
           "Interprofessional Federation of Greater Valrive", "trade_union", "FR",
           "Officer for migrant workers", timezone="Europe/Paris"),
    Person("marielaure", "ml.fontaine@univ-valrive.example", "Marie-Laure Fontaine",
           "Migration Observatory, University of Valrive", "research", "FR", "Research fellow",
           "fr", "Europe/Paris"),
    Person("javier", "javier.morales@sierraclara.example", "Javier Morales Ruiz",
           "Ayuntamiento de Sierra Clara – Área de Derechos Sociales", "local_authority", "ES",
           "Técnico de inclusión", "es", "Europe/Madrid"),
    Person("nadia", "nadia.elamrani@raicescompartidas.example", "Nadia El Amrani",
           "Colectivo Raíces Compartidas", "migrant_led", "ES", "Coordinator",
           timezone="Europe/Madrid"),
    Person("carmen", "carmen.vidal@fhlaboral.example", "Carmen Vidal",
           "Fundación Horizonte Laboral", "non_profit", "ES", "Director of programmes",
           "es", "Europe/Madrid"),
    Person("sarah", "sarah.peeters@ostervoorde.example", "Sarah Peeters",
           "City of Ostervoorde – Living Together Department", "local_authority", "BE",
           "Integration policy officer"),
    Person("moussa", "moussa.traore@diasporas-actives.example", "Moussa Traoré",
           "Réseau Diasporas Actives", "migrant_led", "BE", "Coordinator", "fr"),
    Person("ines", "ines.lambert@emploi-wallonie-est.example", "Inès Lambert",
           "Regional Employment Office East Wallonia", "regional_authority", "BE",
           "Project manager, ESF+ measures", "fr"),
    Person("daan", "daan.devries@westerdam.example", "Daan de Vries",
           "Municipality of Westerdam – Newcomers Team", "local_authority", "NL",
           "Policy adviser", timezone="Europe/Amsterdam"),
    Person("samira", "samira.bakker@nieuweburen.example", "Samira Bakker-Haddou",
           "Stichting Nieuwe Buren", "ngo", "NL", "Volunteer coordinator",
           timezone="Europe/Amsterdam"),
    Person("ruud", "ruud.kuipers@wtn-employers.example", "Ruud Kuipers",
           "Employers' Association for Technology North", "employers", "NL", "Labour market adviser",
           timezone="Europe/Amsterdam"),
    Person("tigist", "tigist.alemu@habesha-women.example", "Tigist Alemu",
           "Habesha Women's Network", "migrant_led", "NL", "Founder", timezone="Europe/Amsterdam"),
    Person("olena", "olena.kovalenko@ukr-women-lubowo.example", "Olena Kovalenko",
           "Association of Ukrainian Women in Lubowo", "migrant_led", "PL", "Chair",
           timezone="Europe/Warsaw"),
    Person("piotr", "piotr.zielinski@wup-lubowo.example", "Piotr Zieliński",
           "Voivodeship Labour Office Lubowo", "regional_authority", "PL",
           "Head of the ESF+ department", "pl", "Europe/Warsaw"),
    Person("nikos", "nikos.alexiou@thalassopoli.example", "Nikos Alexiou",
           "Municipality of Thalassopoli – Migrant Integration Centre", "local_authority", "GR",
           "Centre manager", timezone="Europe/Athens"),
    Person("farah", "farah.almasri@synergy-hellas.example", "Farah Al-Masri",
           "Synergy Diaspora Collective", "migrant_led", "GR", "Community organiser",
           timezone="Europe/Athens"),
    Person("johan", "johan.eklund@vasterhav.example", "Johan Eklund",
           "Region Västerhav – Regional Development", "regional_authority", "SE",
           "Strategist, skills supply", timezone="Europe/Stockholm"),
    Person("abdi", "abdirahman.warsame@foraldranatverket.example", "Abdirahman Warsame",
           "Somali Parents' Network Norrvik", "migrant_led", "SE", "Chair",
           timezone="Europe/Stockholm"),
    Person("barbara", "barbara.gruber@gruber-lenz.example", "Barbara Gruber",
           "Gruber & Lenz Home Care", "private_company", "AT", "Managing director",
           timezone="Europe/Vienna"),
    Person("stefan", "stefan.huber@sprachbruecke.example", "Stefan Huber",
           "Sprachbrücke Alpenland", "non_profit", "AT", "Head of language courses",
           timezone="Europe/Vienna"),
    Person("joao", "joao.mendes@cm-vilaserena.example", "João Mendes",
           "Vila Serena Municipal Council", "local_authority", "PT", "Social action officer",
           timezone="Europe/Lisbon"),
    Person("aissatu", "aissatu.balde@tambarina.example", "Aissatu Baldé",
           "Associação Tambarina", "migrant_led", "PT", "Director", timezone="Europe/Lisbon"),
    Person("andrei", "andrei.popescu@adr-carpatica.example", "Andrei Popescu",
           "Regional Development Agency Carpatica West", "managing_authority", "RO",
           "Head of the regional programme unit", timezone="Europe/Bucharest"),
    Person("elena", "elena.dumitrescu@orizontcomun.example", "Elena Dumitrescu",
           "Asociația Orizont Comun", "ngo", "RO", "Project coordinator",
           timezone="Europe/Bucharest"),
    Person("raluca", "raluca.ionescu@mediere.example", "Raluca Ionescu",
           "Independent intercultural mediator", "individual", "RO", "Mediator and interpreter",
           timezone="Europe/Bucharest"),
    Person("ciaran", "ciaran.byrne@corribvalley-etb.example", "Ciarán Byrne",
           "Corrib Valley Education and Training Board", "regional_authority", "IE",
           "Adult literacy organiser", timezone="Europe/Dublin"),
    Person("petra", "petra.svobodova@poradna-most.example", "Petra Svobodová",
           "Poradna Most", "ngo", "CZ", "Social worker", timezone="Europe/Prague"),
]

# Co-moderators, by room position (two or three a room).
EVENT_MODERATORS = {
    1: [Person("ingrid", "moderator.ingrid@plenary.example", "Ingrid Mortensen",
               "European Network for Inclusive Cohesion Policy", "non_profit", "DK",
               "Facilitator", timezone="Europe/Copenhagen"),
        Person("rafael", "moderator.rafael@plenary.example", "Rafael Costa",
               "Housing Rights Forum Lisbon Region", "ngo", "PT", "Housing expert, co-moderator",
               timezone="Europe/Lisbon"),
        Person("selin", "moderator.selin@plenary.example", "Selin Aydın",
               "Migrant Voices Network", "migrant_led", "DE", "Peer researcher, co-moderator",
               timezone="Europe/Berlin")],
    2: [Person("joanna", "moderator.joanna@plenary.example", "Joanna Wiśniewska",
               "European Network for Inclusive Cohesion Policy", "non_profit", "PL", "Facilitator",
               timezone="Europe/Warsaw"),
        Person("kofi", "moderator.kofi@plenary.example", "Kofi Mensah",
               "Recognition Advice Point Westerdam", "non_profit", "NL",
               "Credential evaluator, co-moderator", timezone="Europe/Amsterdam")],
    3: [Person("lea", "moderator.lea@plenary.example", "Léa Moreau",
               "European Network for Inclusive Cohesion Policy", "non_profit", "FR", "Facilitator",
               timezone="Europe/Paris"),
        Person("dimitris", "moderator.dimitris@plenary.example", "Dimitris Kostas",
               "Adult Learning Platform Europe", "non_profit", "CY", "Language policy adviser",
               timezone="Asia/Nicosia"),
        Person("hana", "moderator.hana@plenary.example", "Hana Novotná",
               "Community Interpreting Cooperative", "other", "CZ", "Interpreter, co-moderator",
               timezone="Europe/Prague")],
    4: [Person("matteo", "moderator.matteo@plenary.example", "Matteo Greco",
               "European Network for Inclusive Cohesion Policy", "non_profit", "IT", "Facilitator",
               timezone="Europe/Rome"),
        Person("aisha", "moderator.aisha@plenary.example", "Aisha Okafor",
               "Funding Access Lab", "non_profit", "IE", "Grants adviser, co-moderator",
               timezone="Europe/Dublin")],
}

ROOMS = [
    event_setup.RoomInput(
        "Housing and first reception",
        "From reception centres to a home of one's own: first-reception capacity in cities, "
        "access to the private rental market, housing-first approaches and the role of "
        "migrant-led organisations as first contact points.", capacity=14),
    event_setup.RoomInput(
        "Skills recognition and access to work",
        "Recognising qualifications and prior learning, bridging courses, working with "
        "employers and trade unions, and keeping newcomers out of jobs far below their skills.",
        capacity=14),
    event_setup.RoomInput(
        "Language learning and community life",
        "Language courses that fit around work and childcare, conversation groups run by "
        "communities, intercultural mediation, and the places where newcomers and residents meet.",
        capacity=14),
    event_setup.RoomInput(
        "Funding and partnership: AMIF and ESF+ together",
        "Combining the Asylum, Migration and Integration Fund and the European Social Fund Plus "
        "in one city strategy, small grants for migrant-led organisations, co-financing and "
        "simplified cost options, and partnership in monitoring committees.", capacity=14),
]


EVENT_DESCRIPTION = """\
Cities and regions receive most newcomers, yet the support they fund is often designed
*for* migrants rather than *with* them. This online workshop brings together local and
regional authorities, managing authorities of EU funds, migrant-led organisations, NGOs,
social partners, employers and researchers to work out what **co-designed integration
support** looks like in practice.

We start together in the plenary, then split into four breakout rooms, each with two or
three co-moderators:

1. **Housing and first reception**
2. **Skills recognition and access to work**
3. **Language learning and community life**
4. **Funding and partnership: AMIF and ESF+ together**

Each room agrees on a few key takeaways, which are shown to everyone in the plenary as the
room closes. The takeaways will feed the hosts' recommendations on the **partnership
principle** in the 2021-2027 programmes and in their successors after 2027.

*Practical:* you are placed in a room automatically, so that each room mixes countries and
kinds of organisation. Please write in English; co-moderators can help in French, German,
Italian and Spanish.
"""

# (minutes after the start, item)
AGENDA = [
    (0, "Welcome and framing in the plenary: why co-design, and what the funds allow"),
    (10, "Breakout rooms. Rooms 1 and 2 use a short 20-minute format; rooms 3 and 4 "
         "take an hour"),
    (30, "First report-back in the plenary: takeaways of rooms 1 and 2"),
    (75, "Report-back of rooms 3 and 4, and open discussion"),
    (105, "Next steps: how the takeaways reach the programme monitoring committees"),
    (120, "Close"),
]


def _agenda(starts_at: datetime, items: list[tuple[int, str]] = AGENDA) -> str:
    """The agenda in the event's time zone (Markdown list, one line per item)."""
    zone = ZoneInfo("Europe/Brussels")
    lines = [f"- **{(starts_at + timedelta(minutes=m)).astimezone(zone):%H:%M}** – {item}"
             for m, item in items]
    return "Times are Brussels time (CET/CEST).\n\n" + "\n".join(lines) + "\n"


@dataclass
class Say:
    author: str                  # a person's key
    body: str
    reply_to: int | None = None  # index of an earlier message of the same room
    backchannel: bool = False    # co-moderators only
    pin: bool = False            # a co-moderator pins it
    hide: str = ""               # a co-moderator hides it, giving this reason
    at: float | None = None      # minutes after the start (default: spread evenly over the window)
    flag: tuple[str, str] | None = None  # (a person's key, reason): they report it to the moderators


@dataclass
class RoomScript:
    messages: list[Say]
    window: tuple[int, int]      # minutes after the start between which the messages were sent
    # (text, index of the participant's message it was promoted from, or None)
    takeaways: list[tuple[str, int | None]] = field(default_factory=list)
    closed: bool = False
    hand: str | None = None      # a participant waiting to speak


# Rooms 1 and 2 have closed with their takeaways; rooms 3 and 4 are still talking.
ROOM_SCRIPTS = {
    1: RoomScript(window=(11, 25), closed=True, messages=[
        Say("ingrid", """\
Welcome to room 1! We have 20 minutes, so let's be concrete: **what has actually shortened the \
time people spend in reception before they move into ordinary housing**, and what part can \
migrant-led organisations play? Rafael and Selin will draft the takeaways with me as we go."""),
        Say("sarah", """\
In Ostervoorde the bottleneck is not reception places but the step after: recognised refugees \
must leave the reception centre within two months, and landlords ask for three months' deposit \
and a payslip. We set up a **rental guarantee fund**: the city guarantees the deposit and the \
tenant repays it in small monthly instalments. The average stay after recognition fell from five \
months to three. It is city money today; it would fit AMIF or ERDF if revolving funds for \
individuals were allowed."""),
        Say("olena", """\
For Ukrainian families in Lubowo, host families carried the first year. What helped most after \
that was a **housing buddy** from our association who goes to viewings with the family and \
explains the lease. Landlords told us they said yes because there was a contact person if \
something went wrong. We run it with volunteers; to keep it going we would need two paid \
part-time staff."""),
        Say("anna", """\
Olena, that is exactly what our regional AMIF call funds as integration support, but only for \
organisations that can pre-finance six months of costs. Would an **advance payment of 30%** make \
it possible for you to apply?""", reply_to=2),
        Say("olena", """\
With a 30% advance, yes. Without it, no: we have no reserves, and banks will not lend to an \
association founded in 2022.""", reply_to=3),
        Say("nikos", """\
In Thalassopoli we moved from a large camp to **small apartments rented by the municipality** and \
sublet to families, with one social worker for every 25 households. It costs more per person \
than the camp, but people find work faster because they live in town, near schools and \
employers. The risk is the funding cliff: the programme was renewed three times, each time for \
only twelve months."""),
        Say("tigist", """\
Something missing so far: women who arrive alone with children are housed last, because most \
schemes are designed for couples with children or for single men. What made the difference for \
us was **peer support from women of the same community**: they explain the rules, go to the \
housing office with them and notice exploitation by informal landlords early."""),
        Say("marielaure", """\
Our evaluation in three French cities found that **keeping the same caseworker** from reception \
to housing was the strongest predictor of a stable tenancy after one year, stronger than the type \
of accommodation. Funding splits reception (AMIF) and later inclusion (ESF+) into separate \
contracts, and that breaks exactly this continuity."""),
        Say("rafael", """\
A clear point for the takeaways: one person accompanies the household across the funding \
boundary. I'm drafting it now.""", reply_to=7),
        Say("joao", """\
A small addition from Vila Serena: we pay landlords a modest fee for renting to families leaving \
reception, and our mediator handles disputes in the first year. Twenty-two landlords joined in \
2023 and no tenancy has been terminated so far."""),
    ], takeaways=[
        ("A **rental guarantee fund** (the deposit guaranteed by a public body and repaid in small "
         "instalments) shortens the stay in reception after recognition; programmes should let AMIF "
         "or ERDF finance such funds.", None),
        ("Women arriving alone with children are housed last: schemes should plan for them "
         "explicitly and fund **peer support by women of the same community**.", 6),
        ("Keep **one caseworker** with a household from reception to stable housing, even when the "
         "funding passes from AMIF to ESF+.", None),
        ("Migrant-led organisations can run housing-buddy and landlord-mediation schemes if calls "
         "offer **advance payments (about 30%)** and multi-year funding instead of yearly renewals.",
         None),
    ]),
    2: RoomScript(window=(11, 25), closed=True, messages=[
        Say("joanna", """\
Welcome to room 2, short format: 20 minutes. Our question: **where does recognition get stuck, \
and who could unblock it?** Please start from a real case if you can."""),
        Say("aissatu", """\
A nurse from Guinea-Bissau in our association waited 19 months for a recognition decision, \
working as a cleaner meanwhile. The obstacle was not the exam but getting documents from a \
ministry back home. **Partial recognition with a supervised adaptation period** would have let \
her work as a care assistant from the third month."""),
        Say("kofi", """\
We see this pattern all the time. Has anyone experience of recognition based on a **skills \
assessment instead of documents**, for people who cannot obtain their papers?""", reply_to=1),
        Say("barbara", """\
We employ 14 carers with foreign qualifications. What worked: a training provider assessed their \
skills in practice over two weeks in our care homes, and the authority accepted its report in the \
recognition procedure. We paid a trainee wage during the adaptation period, half of it covered by \
an ESF+ wage subsidy.""", reply_to=2),
        Say("youssef", """\
Wage subsidies need conditions. We have seen employers keep recognised engineers as "assistants" \
on the minimum wage for years after the subsidy ended. Tie each subsidy to a **written \
progression plan** towards a job that matches the qualification, checked with the staff \
representatives."""),
        Say("jonas", """\
In Neuhafen the recognition advice sits in our single front desk, which helps, but the decisive \
step was paying **recognition fees upfront** (around €600) for people on benefits. Completed \
applications rose by a third within a year."""),
        Say("katarzyna", """\
Employers in Lubowo need welders and electricians now. Our members would accept **modular \
certification**, recognising each unit of competence separately, so that people can start work \
with the units already recognised. The national qualifications framework allows it, but hardly \
anyone uses it."""),
        Say("abdi", """\
Please don't forget people with no formal qualification at all. Many Somali women in Norrvik ran \
shops or managed family businesses for years. **Validation of informal and non-formal learning** \
should count too, and community organisations can help people put their experience into words."""),
        Say("giulia", """\
From the managing authority's side: our regional ESF+ programme can pay for skills assessment \
and bridging courses, but the **recognition procedure itself is national**, so our money stops at \
the ministry's door. A regional-national agreement on deadlines would help more than another \
call for proposals."""),
    ], takeaways=[
        ("**Partial recognition** with a supervised adaptation period lets people work in a related "
         "job (for example as a care assistant) while full recognition is pending.", 1),
        ("Accept **practical skills assessments**, at the workplace or by a training provider, when "
         "documents cannot be obtained, and validate informal and non-formal learning too.", None),
        ("Wage subsidies for newly recognised workers should require a **written progression plan** "
         "towards a job matching the qualification.", None),
        ("Pay **recognition fees upfront** for people on low incomes, and agree deadlines between "
         "national recognition bodies and regional ESF+ programmes.", None),
    ]),
    3: RoomScript(window=(12, 29), messages=[
        Say("lea", """\
Guiding questions for this room (pinned, so they stay in view):

1. Which course formats fit around **shift work and childcare**?
2. What do **community-run conversation groups** add, and how should they be recognised?
3. Where is **intercultural mediation** needed, and who should pay for it?

Please keep personal stories anonymous.""", pin=True),
        Say("fatima", """\
Our integration courses run from 9:00 to 13:00, which rules out almost everyone who works shifts. \
Since we added **evening and weekend modules** leading to the same exam, drop-out among working \
learners has halved. Childcare is still missing: mothers have to choose between the course and a \
job interview."""),
        Say("nadia", """\
Our conversation groups in Sierra Clara are run by women who arrived five to ten years ago. They \
meet in the market hall on Saturdays, with childcare in the next room, for about €4,000 a year. \
Could such groups count as **attendance hours** in the official course? That would motivate \
learners and give funders a reason to support us."""),
        Say("eva", """\
There is evidence for this. In our study of 600 learners in Norrvik, those who also attended \
informal conversation groups were **twice as likely to pass B1** within a year. Counting the \
hours would need a light quality standard (trained facilitators, an attendance register), not a \
full accreditation.""", reply_to=2),
        Say("kwame", """\
An example from last week: Mr Osei Danquah, who lives at the Via dei Tigli reception centre in \
Valdarena and whose asylum appeal was rejected in March, was refused a place on a B1 course \
because of his status.""",
            hide="Names a person and his asylum status. Please repost the example without details "
                 "that could identify him."),
        Say("hana", """\
I have hidden Kwame's last message because it named a person and his legal status. Kwame, please \
post the example again without those details: the point about access to courses matters."""),
        Say("kwame", """\
Reposted without the details: a man whose asylum appeal was rejected, and who is appealing again, \
was refused a place on a B1 course because of his status, although he has worked legally in a \
warehouse for two years. **Access to language courses should not depend on residence status**, \
least of all for people who already work."""),
        Say("pieter", """\
Agreed, Kwame. In Belgium several sectors have negotiated **paid training leave** that also \
covers language courses. A course held at a logistics company with 40 migrant workers reached \
people who never came to evening classes, and the employer recorded fewer safety incidents."""),
        Say("ana", """\
Same in our hotels: two hours of Portuguese a week during working time, with the vocabulary of \
housekeeping and kitchens. Staff turnover among newcomers fell from 45% to 25% in a year. Small \
employers cannot organise this alone; a **regional pool of workplace language teachers** would \
help them.""", reply_to=7),
        Say("claire", """\
On mediation: the Métropole funds six intercultural mediators who speak eleven languages between \
them and work in schools, health centres and the housing office. They are on one-year project \
contracts, and every year we lose people we trained. **Mediation should be a permanent public \
service**, not a project."""),
        Say("dimitris", """\
Thank you all. Emerging points: flexible formats with childcare; community groups counted as \
learning hours under a light quality standard; workplace courses in paid time; access regardless \
of status; stable funding for mediators. Ten more minutes: who has seen **online or blended \
formats** work for beginners?"""),
    ]),
    4: RoomScript(window=(12, 29), hand="johan", messages=[
        Say("matteo", """\
Welcome to room 4. Our question: **how can a city combine AMIF and ESF+ in one integration \
strategy, and how do migrant-led organisations get a real share of the money**, not only a seat \
at the table?"""),
        Say("amina", """\
The money exists; access does not. Our last ESF+ application ran to 84 pages, with 20% \
co-financing and payment nine months after the activity. Organisations like ours need **small \
grants schemes** (up to €50,000) run by an intermediary body, with simplified cost options and an \
advance of at least 40%."""),
        Say("andrei", """\
As a managing authority we could set up such a scheme through an intermediary body. What holds \
us back is audit risk: if the intermediary makes mistakes, the financial correction falls on our \
programme. Paying small grants as **lump sums** would reduce that risk a great deal.""",
            reply_to=1),
        Say("daan", """\
In Westerdam we wrote one **integration strategy** first and then mapped each action to a fund: \
AMIF for the first two years after arrival, ESF+ for employment and training, ERDF for the \
community centre. The key was a single steering group of the city, two migrant-led organisations \
and the employment service. Setting it up took a year."""),
        Say("sofia", """\
Daan, how do you avoid duplicate eligibility checks when people move from AMIF to ESF+ support \
in the same year? Our auditors asked for separate proof for every participant.""", reply_to=3),
        Say("daan", """\
We keep one participant record with a funding tag for each activity, agreed with both audit \
bodies at the start. Not elegant, but it has passed two audits.""", reply_to=4),
        Say("mehmet", """\
Partnership in monitoring committees often means one "civil society" seat shared by forty \
organisations. We propose a **caucus of migrant-led organisations** that prepares positions \
before each committee meeting, with a small technical assistance budget for the preparation \
time. Volunteers cannot read 300-page documents at night."""),
        Say("tomas", """\
Technical assistance can pay for that; some programmes already reimburse partners' time. My \
worry is continuity: projects end and the knowledge leaves with them. **Multi-annual framework \
agreements** (three to four years) with experienced organisations would help more than yearly \
calls."""),
        Say("aisha", """\
Matteo, Johan has had his hand up for a few minutes. Shall we give him the floor after Tomáš, \
then move on to co-financing?""", backchannel=True),
        Say("matteo", """\
Yes, Johan next. Then I'll sum up the three proposals so far (small grants paid as lump sums, one \
strategy mapped to the funds, a caucus for migrant-led organisations) before co-financing.""",
            reply_to=8, backchannel=True),
        Say("javier", """\
On co-financing: Sierra Clara covers the 15% national share of projects run by migrant \
associations as an in-kind contribution (rooms, staff time). Smaller towns cannot do that; a \
**lower co-financing rate for small grants** would make a real difference."""),
    ]),
}

# The window spreads its two messages 28 minutes apart: the second follows the closing of
# rooms 1 and 2 (at minute 28).
PLENARY_SCRIPT = RoomScript(window=(1, 57), messages=[
    Say("helena", """\
Welcome to **Welcoming cities**! Over the next two hours we are looking for concrete answers to \
one question: how can cities, managing authorities and migrant-led organisations design \
integration support together, and what do AMIF and ESF+ need to make that possible?

You have been placed in one of four breakout rooms, mixed by country and kind of organisation: \
the link to your room is on this page. Rooms 1 and 2 report back after 20 minutes, rooms 3 and 4 \
towards the end."""),
    Say("helena", """\
Rooms 1 and 2 have closed: their takeaways are on the report-back cards. Thank you to their \
co-moderators! Rooms 3 and 4 carry on, and we meet here again for their report-back."""),
])


# The plenary's speakers, one per line (Event.speakers).
EVENT_SPEAKERS = """\
Ioana Petrescu, Rapporteur on labour-market integration, Advisory Group on Cohesion and Inclusion
Sanne Verhoeven, Deputy Mayor for Social Affairs, City of Westerdam
Yonas Tesfaye, Director, Migrant Voices Network
"""


@dataclass
class Ask:
    """A pre-event question and the answers it received before the event."""
    kind: str                    # forum.models.preevent.PreEventKind codes
    label: str
    room: int | None             # a breakout room's position; None: the whole event
    answers: list[tuple[str, str, int]]  # (author's key, answer as typed, how many endorse it)


# A little input before the live event: event-wide since it was announced, rooms 3 and 4
# since everyone was placed the evening before. Nothing is pinned yet: rooms 3 and 4 are open,
# so their co-moderators find it in their console and can pin it themselves.
EVENT_PREEVENT = [
    Ask("priorities", "What should the hosts' recommendations on the partnership principle ask for first?", None, [
        ("mehmet", "A seat with a vote for migrant-led organisations in every monitoring committee, and a small "
                   "budget to prepare for the meetings.", 5),
        ("claire", "Multi-year funding for intercultural mediators. One-year contracts make us lose the people we "
                   "trained.", 3),
        ("andrei", "Guidance that lets managing authorities delegate small grants to an intermediary body without "
                   "carrying all the audit risk themselves.", 2),
        ("tigist", "Co-design before the call is written, not comments after it is published.", 4),
    ]),
    Ask("discuss", "Which question should the plenary take up?", None, [
        ("javier", "How can small towns, with no staff for EU projects, take part in AMIF and ESF+ at all?", 3),
        ("elena", "How do we keep migrant-led organisations involved between two calls, when there is no project "
                  "to pay for their time?", 1),
    ]),
    Ask("experience", "Which course format has worked for learners who work shifts or look after children?", 3, [
        ("nadia", "Saturday conversation groups in the market hall, with childcare in the next room. People come "
                  "because they can bring the children.", 2),
        ("fatima", "Evening and weekend modules that lead to the same exam as the morning course. Drop-out among "
                   "working learners halved.", 3),
        ("ana", "Two hours a week during paid working time, at the workplace, with the vocabulary of the job.", 1),
    ]),
    Ask("discuss", "What stops your organisation from applying for AMIF or ESF+ funding?", 4, [
        ("amina", "Pre-financing. We cannot wait nine months for the first payment.", 3),
        ("mehmet", "The forms: 80 pages of technical language for a project of 40,000 euros.", 2),
        ("javier", "Co-financing. Our town can give rooms and staff time, but not cash.", 1),
    ]),
]
# Registered for the live event, placed in a room, but never came (so they did nothing there).
LIVE_ABSENT = ("ciaran", "petra", "raluca")


@dataclass
class RoomLogins:
    position: int
    title: str
    phase: str
    room_id: int
    moderators: list[tuple[str, str]]        # (name, email)
    participant: tuple[str, str] | None       # (name, email)


@dataclass
class EventLogins:
    title: str
    event_id: int
    plenary_id: int
    rooms: list[RoomLogins]
    organiser: tuple[str, str] = (ORGANISER_EMAIL, ORGANISER_PASSWORD)
    moderator_password: str = MODERATOR_PASSWORD
    participant_password: str = PARTICIPANT_PASSWORD


def _event_start(now: datetime) -> datetime:
    # About half an hour ago, on a round five minutes, so the agenda reads naturally.
    start = now - timedelta(minutes=30)
    return start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)


class _Timeline:
    """The event's actions, each at the moment it happens: they run in time order, under
    `clock_at`, so that what the services store (messages, endorsements, hands, takeaways and
    the moderation log) carries the times of the discussion, as it would have live. Rooms run
    side by side, interleaved; an action may put follow-ups on the timeline (a pin after a
    message), which run when their moment comes."""

    def __init__(self, now: datetime):
        self.now = now
        self.steps: list[tuple[datetime, int, Callable[[], None]]] = []
        self.count = itertools.count()

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        # Never in the future: the last seconds of a script may touch the present.
        heapq.heappush(self.steps, (min(moment, self.now), next(self.count), action))

    def run(self) -> None:
        while self.steps:
            moment, _, action = heapq.heappop(self.steps)
            with clock_at(moment):
                action()
                db.session.flush()


def _register_for(user: User, event: Event):
    """Register, and be sent the confirmation then: the job that sends it (queued to run after
    the commit) would date it when the demo is stored; it finds it sent and adds nothing."""
    member = event_setup.register(user, event)
    db.session.flush()
    notifications.deliver_registration(event.id, user.id)
    return member


def _live_event(organiser: User, people: dict[str, User], now: datetime) -> EventLogins:
    rng = random.Random(SEED + 1)  # its own, so the consultations stay as they were
    starts_at = _event_start(now)
    with clock_at(now - timedelta(days=21)):
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=EVENT_TITLE, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=120),
            description=EVENT_DESCRIPTION, agenda=_agenda(starts_at), timezone="Europe/Brussels",
            assignment_mode=AssignmentMode.BALANCED.value))
        event.speakers = EVENT_SPEAKERS  # a column (migration 0015) that EventInput does not carry yet
        event_setup.publish_event(organiser, event)
        db.session.flush()

    for person in EVENT_PARTICIPANTS:
        people[person.key] = _register(person, PARTICIPANT_PASSWORD)
        people[person.key].created_at = now - timedelta(days=rng.uniform(5, 60), hours=rng.uniform(0, 24))
    # Everyone registers before the rooms exist, as happens when an event is announced
    # early; nobody is placed on arrival, and one balanced assignment then places them all.
    attendees = [people[p.key] for p in PARTICIPANTS + EVENT_PARTICIPANTS]
    registered_at = {user.id: now - timedelta(days=rng.uniform(1, 20), hours=rng.uniform(0, 24))
                     for user in attendees}
    for user in sorted(attendees, key=lambda u: registered_at[u.id]):
        with clock_at(registered_at[user.id]):
            _register_for(user, event)
            db.session.flush()

    # The rooms and their co-moderators on the eve, and the assignment an hour later, so that
    # everyone knows their room (and can answer its pre-event questions) the evening before.
    with clock_at(starts_at - timedelta(hours=20)):
        for position, data in enumerate(ROOMS, start=1):
            room = event_setup.add_room(organiser, event, data)
            for person in EVENT_MODERATORS[position]:
                people[person.key] = _register(person, MODERATOR_PASSWORD)
                people[person.key].created_at = now - timedelta(days=rng.uniform(20, 90))
                event_setup.appoint_moderator(organiser, room, person.email)
        db.session.flush()
    assigned_at = starts_at - timedelta(hours=19)
    with clock_at(assigned_at):
        placed = event_setup.run_balanced_assignment(organiser, event)
        db.session.flush()

    members_of: dict[int, list[User]] = {room.id: [] for room in event.breakout_rooms}
    for user in attendees:
        members_of[placed[user.id]].append(user)

    timeline = _Timeline(now)
    # Before the start: a little pre-event input (event-wide since the announcement, rooms 3
    # and 4 since the assignment; nobody has pinned any yet: their moderators can try it),
    # and the reminders the timer sends the day before and a quarter of an hour before.
    positions = {room.id: room.position for room in event.breakout_rooms}
    _preevent_input(timeline, organiser, event, EVENT_PREEVENT, people, registered_at,
                    {user_id: positions[room_id] for user_id, room_id in placed.items()},
                    {user.id: assigned_at for user in attendees}, deadline=starts_at, rng=random.Random(SEED + 6),
                    created_at=now - timedelta(days=20, hours=23),
                    rooms_created_at=starts_at - timedelta(hours=19, minutes=55))
    _reminders(timeline, starts_at)
    timeline.at(starts_at, lambda: rooms.set_phase(organiser, event.plenary, "open"))
    # Everyone but LIVE_ABSENT comes into the plenary in its first minutes (attendance is
    # recorded as they do), before the first question is asked.
    absent = {people[key].id for key in LIVE_ABSENT}
    present = [user for user in attendees if user.id not in absent]
    arrivals = random.Random(SEED + 7)
    for user in present:
        moment = starts_at + timedelta(seconds=arrivals.uniform(15, 170))
        timeline.at(moment, lambda user=user, moment=moment: rooms.record_attendance(user, event.plenary, moment))
    for room in event.breakout_rooms:
        _run_room(timeline, room, room.moderators[0].user, ROOM_SCRIPTS[room.position], people,
                  [user for user in members_of[room.id] if user.id not in absent], starts_at)
    _run_room(timeline, event.plenary, organiser, PLENARY_SCRIPT, people, [], starts_at)
    _plenary_poll(timeline, organiser, event.plenary, present, starts_at)
    _plenary_questions(timeline, organiser, event.plenary, present, starts_at)
    timeline.run()

    return EventLogins(EVENT_TITLE, event.id, event.plenary.id, [
        RoomLogins(room.position, room.title, room.phase.value, room.id,
                   [(m.user.display_name, m.user.email) for m in room.moderators],
                   _first_speaker(room, members_of[room.id]))
        for room in event.breakout_rooms])


def _cast(script: RoomScript, members: list[User], people: dict[str, User]) -> dict[str, User]:
    """Who says what. The scripts were written for the balanced assignment's result (which
    is deterministic); should that rule change, a scripted participant placed elsewhere is
    replaced by a room member who has no lines, so the demo still loads."""
    participant_keys = {p.key for p in PARTICIPANTS + EVENT_PARTICIPANTS}
    member_ids = {user.id for user in members}
    keys = ([say.author for say in script.messages] + [say.flag[0] for say in script.messages if say.flag]
            + ([script.hand] if script.hand else []))
    cast = {key: people[key] for key in keys
            if key not in participant_keys or people[key].id in member_ids}
    spare = [user for user in members if user not in cast.values()]
    for key in dict.fromkeys(keys):
        if key not in cast:
            cast[key] = spare.pop(0)
    return cast


def _run_room(timeline: _Timeline, room: Room, lead: User, script: RoomScript, people: dict[str, User],
              members: list[User], starts_at: datetime) -> None:
    """Put the room's script on the timeline: its moderator opens it a minute before its
    first message; each message is sent by its author (pinned or hidden half a minute
    later) and a few members agree with it within the minute; a room that closes then
    wraps up, gets its takeaways and closes (which sends its card to the plenary)."""
    first, last = script.window
    # Rooms with the same format do not all act on the same second.
    minute = lambda m: starts_at + timedelta(minutes=m, seconds=7 * room.position)  # noqa: E731
    if not room.is_plenary:
        timeline.at(minute(first - 1), lambda: rooms.set_phase(lead, room, "open"))
    cast = _cast(script, members, people)
    member_ids = {m.id for m in members}
    step = (last - first) / max(1, len(script.messages))
    written: list[Post] = []

    def send(i: int, say: Say, sent_at: datetime) -> None:
        parent = written[say.reply_to] if say.reply_to is not None else None
        post = posts.post_in_room(cast[say.author], room, body=say.body, parent=parent,
                                  backchannel=say.backchannel)
        written.append(post)
        if say.pin:
            timeline.at(sent_at + timedelta(seconds=30), lambda: moderation.pin_post(lead, post))
        if say.flag:
            timeline.at(sent_at + timedelta(seconds=20),
                        lambda: moderation.flag_post(cast[say.flag[0]], post, say.flag[1]))
        if say.hide:
            timeline.at(sent_at + timedelta(seconds=40), lambda: moderation.hide_post(lead, post, say.hide))
            return
        # Participants agree with what they read: a few per message, the same few every time.
        if say.backchannel or post.author_id not in member_ids:
            return
        readers = [m for m in members if m.id != post.author_id]
        for k, reader in enumerate(readers[:(len(post.body) + 3 * i) % 6]):
            timeline.at(sent_at + timedelta(seconds=45 + 3 * k), lambda reader=reader: posts.endorse(reader, post))

    for i, say in enumerate(script.messages):
        sent_at = minute(say.at if say.at is not None else first + i * step)
        timeline.at(sent_at, lambda i=i, say=say, sent_at=sent_at: send(i, say, sent_at))
    if script.hand:
        timeline.at(minute(last), lambda: rooms.raise_hand(cast[script.hand], room))
    if script.closed:
        timeline.at(minute(last), lambda: rooms.set_phase(lead, room, "wrap_up", 5))
        for i, (text, source) in enumerate(script.takeaways):
            timeline.at(minute(last + 1 + i / 2), lambda text=text, source=source: rooms.add_takeaway(
                lead, room, text, source_post=written[source] if source is not None else None))
        timeline.at(minute(last + 1 + len(script.takeaways) / 2), lambda: rooms.set_phase(lead, room, "closed"))


def _first_speaker(room: Room, members: list[User]) -> tuple[str, str] | None:
    """A participant of the room to log in as: one who has written there, if any."""
    authors = set(db.session.scalars(select(Post.author_id).where(Post.room_id == room.id)))
    chosen = next((user for user in members if user.id in authors), members[0] if members else None)
    return (chosen.display_name, chosen.email) if chosen else None


def _preevent_input(timeline: _Timeline, organiser: User, event: Event, asks: list[Ask], people: dict[str, User],
                    registered_at: dict[int, datetime], room_of: dict[int, int], placed_at: dict[int, datetime], *,
                    deadline: datetime, rng: random.Random, created_at: datetime,
                    rooms_created_at: datetime | None = None) -> dict[tuple[int, str], PreEventAnswer]:
    """The organiser's pre-event questions (event-wide ones added at `created_at`, the rooms'
    at `rooms_created_at`), and their answers and endorsements on the timeline: each person
    answers some time after they could (registered; placed in the room, for a room's question)
    and before `deadline` (the start); each answer is endorsed by people of its board, each
    after both they and the answer were there. Returns the answers by (room position, 0 for
    the event-wide board; author's key), filled in as the timeline runs."""
    made: dict[tuple[int, str], PreEventAnswer] = {}
    by_position = {room.position: room for room in event.rooms}
    asked = []
    for ask in asks:
        with clock_at(created_at if ask.room is None else (rooms_created_at or created_at)):
            asked.append(preevent.add_question(organiser, event, kind=ask.kind, label=ask.label,
                                               room=by_position[ask.room] if ask.room else None))
    for ask, question in zip(asks, asked, strict=True):
        ready_at = registered_at if ask.room is None else placed_at
        board = [user for user in people.values() if user.id in registered_at
                 and (ask.room is None or room_of.get(user.id) == ask.room)]
        for key, body, endorsements in ask.answers:
            author = people[key]
            answer_at = ready_at[author.id] + (deadline - ready_at[author.id]) * rng.uniform(0.05, 0.6)

            def write(author=author, body=body, question=question, key=key, position=ask.room or 0) -> None:
                made[position, key] = preevent.answer(author, question, body)

            timeline.at(answer_at, write)
            others = [user for user in board if user.id != author.id]
            for endorser in rng.sample(others, min(endorsements, len(others))):
                since = max(answer_at, ready_at[endorser.id])
                timeline.at(since + (deadline - since) * rng.uniform(0.05, 0.9),
                            lambda endorser=endorser, key=key, position=ask.room or 0:
                            preevent.endorse(endorser, made[position, key]))
    return made


def _reminders(timeline: _Timeline, starts_at: datetime) -> None:
    """The reminders timer, at the moments it would have told the event's people: the day
    before and a quarter of an hour before the start (forum/services/notifications.py)."""
    for before in (timedelta(hours=18), timedelta(minutes=15)):
        timeline.at(starts_at - before, notifications.create_due_reminders)


def _local_start(moment: datetime, hour: int, step: int) -> datetime:
    """`hour` o'clock Brussels time on the day of `moment`, or the nearest Tuesday to Thursday
    before (step -1) or after (step 1) it: webinars are held mid-week."""
    zone = ZoneInfo("Europe/Brussels")
    day = moment.astimezone(zone).date()
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=step)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(timezone.utc)


def _tidy_notices(event: Event, answered: set[int]) -> None:
    """What the people of an event that ended weeks ago were told then (registration, the
    reminders, the feedback form) they have read since: all of it, but the feedback notice of
    those who have not answered yet."""
    for notice in db.session.scalars(select(Notification).where(Notification.event_id == event.id)):
        if notice.kind is not NotificationKind.FEEDBACK_OPEN or notice.user_id in answered:
            notice.read_at = notice.created_at + timedelta(hours=2)
    db.session.flush()


# --- An event that has ended --------------------------------------------------------------
#
# A webinar held some three weeks ago, from its announcement to its feedback: pre-event input
# (some of it pinned into the rooms at the start), 48 registered of whom 36 came and 29 wrote,
# questions to the speakers and a poll in the plenary, three breakout rooms that reported back,
# then ended by the organiser; 21 participants answered the feedback form. Its people choose
# their room when they register (a self-select event), so each room's cast is written here.

ENDED_TITLE = "Pathways to work for migrant and refugee women: what ESF+ can change"

ENDED_DESCRIPTION = """\
Migrant and refugee women are the group that EU-funded employment measures reach least: fewer
of them are in work than migrant men or women born in the EU, and many of those who hold
qualifications work far below them. The EU Action Plan on Integration and Inclusion 2021-2027
asks programmes to take their situation into account from the design stage.

This two-hour webinar asks what **ESF+** and **AMIF** programmes can do differently. Short inputs
open the plenary, followed by questions to the speakers; then three breakout rooms, each with
two or three co-moderators, work on one barrier each:

1. **Childcare, care duties and flexible formats**
2. **Skills, recognition and informal experience**
3. **Employers, placements and first jobs**

Each room reports its key takeaways back to the plenary. Please answer the pre-event questions
when you register: the co-moderators will bring your input into the rooms.
"""

ENDED_SPEAKERS = """\
Helena Marquardt (chair), European Network for Inclusive Cohesion Policy
Ioana Petrescu, Rapporteur on labour-market integration, Advisory Group on Cohesion and Inclusion
Dr Miriam Osei-Bonsu, Labour economist, Centre for Gender and Work Studies
Katrin Vogel, Head of the ESF+ unit, Ministry of Labour of Nordmark
Leila Mansour, Director, Women's Employment Hub Valrive
"""

ENDED_AGENDA = [
    (0, "Welcome and why this webinar"),
    (5, "Inputs: the policy frame (Ioana Petrescu), what the data show (Dr Miriam Osei-Bonsu), "
        "a programme that worked (Katrin Vogel and Leila Mansour)"),
    (20, "Questions to the speakers, and a quick poll"),
    (30, "Breakout rooms (about 50 minutes)"),
    (85, "Report-back: each room's takeaways"),
    (110, "Next steps and close"),
    (120, "End"),
]

# People who take part in this webinar only.
ENDED_NEWCOMERS = [
    Person("lieve", "lieve.claes@kinderopvang-oostland.example", "Lieve Claes",
           "Municipal Childcare Service of Oostland", "local_authority", "BE", "Head of admissions"),
    Person("zainab", "zainab.yusuf@sistersinwork.example", "Zainab Yusuf", "Sisters in Work Collective",
           "migrant_led", "IE", "Coordinator", timezone="Europe/Dublin"),
    Person("hanna", "hanna.virtanen@tyollisyys-jarvimaa.example", "Hanna Virtanen",
           "Employment Services of Järvimaa Region", "regional_authority", "FI",
           "Senior employment counsellor", timezone="Europe/Helsinki"),
    Person("rania", "rania.saleh@frauennetz-ostwald.example", "Rania Saleh", "Frauennetz Ostwald e.V.",
           "migrant_led", "DE", "Project lead, women and work", timezone="Europe/Berlin"),
    Person("gregor", "gregor.kranjc@kranjc-logistika.example", "Gregor Kranjc", "Kranjc Logistika d.o.o.",
           "private_company", "SI", "Operations manager", timezone="Europe/Ljubljana"),
    Person("marta", "marta.silva@mulheresemrede.example", "Marta Silva", "Associação Mulheres em Rede",
           "ngo", "PT", "Employment project coordinator", timezone="Europe/Lisbon"),
]

# Each room: its details, its co-moderators (the live event's, by key), who came (those who
# came late last, as they arrived: ENDED_LATE) and who registered but never came.
ENDED_ROOMS = [
    (event_setup.RoomInput(
        "Childcare, care duties and flexible formats",
        "Childcare during courses, placements and the first months of a job; course times that follow "
        "the school day; care for older relatives; the trust that makes mothers leave a child.", capacity=18),
     ["joanna", "selin"],
     ["amina", "sofia", "niamh", "tigist", "olena", "nadia", "samira", "fatima", "carmen", "lieve", "zainab", "chiara"],
     ["claire", "abdi", "elena", "petra"]),
    (event_setup.RoomInput(
        "Skills, recognition and informal experience",
        "Finding the skills that women bring, recognising qualifications without documents, practical "
        "assessments, and counting experience gained outside formal employment.", capacity=18),
     ["lea", "kofi", "hana"],
     ["eva", "ahmad", "jonas", "aissatu", "farah", "marielaure", "ines", "raluca", "hanna", "rania", "katarzyna",
      "moussa"],
     ["federico", "mehmet", "daan", "barbara"]),
    (event_setup.RoomInput(
        "Employers, placements and first jobs",
        "What makes an employer offer a first placement, how placements lead to contracts, part-time "
        "placements for mothers, and labour rights from the first day.", capacity=18),
     ["matteo", "aisha"],
     ["ana", "pieter", "giulia", "marco", "lucia", "tomas", "youssef", "kwame", "gregor", "marta", "nikos", "joao"],
     ["sarah", "ciaran", "javier", "anna"]),
]
ENDED_LATE = {"chiara": 37, "moussa": 41, "joao": 45}  # minutes after the start, straight into their room

ENDED_PREEVENT = [
    Ask("priorities", "What is the biggest barrier to work for the migrant and refugee women you work with?", None, [
        ("tigist", "Childcare. Most courses run from 9 to 13, exactly when the youngest children need someone. "
                   "Without a place in a crèche, nothing else matters.", 7),
        ("eva", "Recognition. Women with degrees end up cleaning because nobody looks at what they studied. In "
                "our survey women applied for recognition years later than men, once the family had settled.", 5),
        ("pieter", "Precarious first jobs: short part-time contracts in cleaning and care, with split shifts "
                   "that leave no time for a course or a second job.", 4),
        ("olena", "Language courses at the wrong level or the wrong time. Many Ukrainian women in Lubowo speak "
                  "good English but no Polish; the courses start from zero, in the evening, when they look "
                  "after the children.", 3),
        ("jonas", "Information. Many women never come to the jobcentre because the benefit is paid to the "
                  "husband. We only meet them if we go to them.", 4),
        ("nadia", "Confidence and networks. Many women have never had a job interview in Europe. A mentor who "
                  "went through it herself helps more than any training.", 3),
        ("katarzyna", "Employers do not know these women exist. Our members look for staff, but the women on "
                      "integration courses never reach them.", 2),
        ("rania", "Transport. Outside the cities, jobs in care and logistics need a car, and a driving licence "
                  "costs more than a month's income.", 2),
        ("federico", "The data do not show women at all: most programme indicators are not broken down by gender "
                     "and residence status, so nobody sees who is left out.", 1),
    ]),
    Ask("discuss", "What would you like to ask the speakers?", None, [
        ("samira", "Can ESF+ pay for childcare during a work placement, not only during a course?", 6),
        ("ahmad", "What happens to women who came through family reunification and are not registered as "
                  "job-seekers?", 3),
        ("claire", "Can a city fund a women's job club from ESF+ directly, or only through the national "
                   "programme?", 1),
        ("marco", "Which indicators would show that a job is a step forward and not a dead end?", 2),
        ("zainab", "Will migrant-led women's organisations be able to apply for small grants in the next "
                   "programme?", 4),
    ]),
    Ask("experience", "Which arrangement has made it possible for mothers of young children to join a course or "
                      "take a job?", 1, [
        ("fatima", "We moved our course to 9:30-14:00 and opened a crèche in the same building for children "
                   "under three. Almost every mother now comes, instead of a third.", 6),
        ("sofia", "Childcare vouchers paid from the project budget, usable at any nursery near home. It was the "
                  "support most asked for in our pilot.", 3),
        ("lieve", "We keep ten places in our municipal crèches for parents in an integration pathway, for six "
                  "months, until a regular place opens.", 4),
        ("petra", "Older women of the neighbourhood look after the children during the course. Cheap, but it "
                  "depends on volunteers and stops in the holidays.", 1),
        ("amina", "Courses held in the children's school, right after drop-off. The mothers are already there, "
                  "and the teachers know them.", 2),
    ]),
    Ask("experience", "Share an example of skills or experience that were recognised, or overlooked, in a job "
                      "search.", 2, [
        ("aissatu", "A midwife from Guinea-Bissau had her skills assessed in a hospital over three weeks. She now "
                    "works as a maternity care assistant while she completes the missing modules.", 4),
        ("hanna", "A skills interview in the person's own language found that a third of the women who said they "
                  "had no work experience had run a shop, a farm or a sewing business.", 5),
        ("farah", "A woman who taught mathematics for twelve years was sent to a cleaning course because her "
                  "diploma was still being translated. Nobody asked her what she had done.", 3),
        ("raluca", "A job title does not travel, the tasks do. Describing what someone did every day gets past "
                   "the translation problem.", 2),
        ("mehmet", "Women with years of informal tailoring got a partial vocational qualification after a "
                   "practical test at the chamber of crafts.", 1),
    ]),
    Ask("discuss", "What would make employers in your area offer placements to women with little work "
                   "experience in the EU?", 3, [
        ("ana", "A short paid trial with a mentor colleague, and one contact person at the employment service "
                "for when something goes wrong.", 5),
        ("gregor", "Less paperwork. A small firm cannot fill in a twenty-page form for a two-month placement.", 2),
        ("giulia", "If the regional programme pays the allowance and the insurance in full, the employer only "
                   "offers the place and a tutor. We do this for traineeships already.", 3),
        ("youssef", "Placements must be paid and lead somewhere. Employers who host trainees every year and hire "
                    "none should not get new ones.", 2),
        ("sarah", "Meeting the women first. Employers who met candidates at a job fair run with a migrant women's "
                  "group offered twice as many placements.", 1),
    ]),
]
# Pinned at the start: (room position, 0 for the plenary; the answer's author)
ENDED_PINS = [(0, "tigist"), (1, "fatima"), (3, "ana")]

ENDED_ROOM_SCRIPTS = {
    1: RoomScript(window=(34, 78), closed=True, messages=[
        Say("joanna", """\
Welcome to room 1! The pre-event input pinned above shows what worked for many of you, so let's \
start there: **which childcare arrangements have let mothers take part in courses or work, and \
what did they cost?**"""),
        Say("fatima", """\
Our crèche is in the same building as the course rooms, for children under three. It costs about \
€1,100 per child and month, and we pay it from the ESF+ project as an eligible cost. The course \
now runs from 9:30 to 14:00, so mothers can drop older children at school first."""),
        Say("lieve", """\
From the childcare side: reserved places work, but only if the course provider tells us the \
dates early. Three weeks' notice is our minimum to find staff. And who pays for the place when a \
mother drops out in the second week?"""),
        Say("sofia", """\
In our pilot the voucher kept running for four weeks after a drop-out, to give the mother time to \
come back or find a job. It was written into the call as a flat rate, so nobody had to justify \
it.""", reply_to=2),
        Say("tigist", """\
Childcare is not only for toddlers. Mothers of school children cannot attend a course that ends \
at 17:00. **Courses must follow the school day.**"""),
        Say("olena", """\
Most Ukrainian women in Lubowo work already, in jobs below their skills. For them the question is \
evening or online courses with childcare, so that they can move up. Has anyone offered childcare \
in the evening?"""),
        Say("zainab", """\
Many of our members look after relatives, not children. A grandmother with dementia at home keeps \
a woman out of work as surely as a baby does. **Care for adults** should be eligible too."""),
        Say("selin", """\
Good point, Zainab. Does anyone know a programme that pays for respite care while the carer is in \
training?"""),
        Say("nadia", """\
In Sierra Clara our conversation groups bring their children, and an older girl of the community \
runs games next door for a small fee. Informal, but the mothers trust it more than a stranger's \
crèche."""),
        Say("amina", """\
Trust matters. The women we support will not leave a baby with someone they have never met. We \
start with a **settling-in week** in which the mother stays in the crèche with the child. It costs \
a week of the course, and it pays back."""),
        Say("fatima", """\
We do the same, and it halved the drop-outs in the first month.""", reply_to=9),
        Say("joanna", """\
Ten minutes left. I'm drafting the takeaways: childcare as an eligible cost of every measure, \
courses that follow the school day, a settling-in week, and care for adults. Anything missing?"""),
        Say("niamh", """\
That childcare must cover placements and the first months of a job, not only the course. \
Otherwise women give up the job when the course ends.""", reply_to=11),
    ], takeaways=[
        ("Make **childcare an eligible cost of every measure** (courses, placements and the first months "
         "of a job), paid as a flat rate so that nobody has to justify each hour.", 12),
        ("Courses should **follow the school day**, with a crèche in the same building; providers should "
         "reserve places with at least three weeks' notice.", 1),
        ("Start with a **settling-in week** in which the mother stays with the child: it builds trust and "
         "halves early drop-outs.", 9),
        ("Treat **care for adult relatives** like childcare: respite care during training should be "
         "eligible.", 6),
    ]),
    2: RoomScript(window=(34, 78), closed=True, messages=[
        Say("lea", """\
Guiding questions for this room (pinned, so they stay in view):

1. Where do women's skills get **overlooked** on the way to work?
2. Which **assessment methods** work for people without documents?
3. How do we count **informal experience**: a shop, a farm, years of care work?""", pin=True),
        Say("hanna", """\
In our office a third of the women who said they had no work experience had in fact run a business \
of some kind. The question "have you worked?" is the problem. We now ask **what they did every \
day** before they came."""),
        Say("farah", """\
The maths teacher from my pre-event answer now works as a teaching assistant. What changed was a \
head teacher who let her give a trial lesson. Could a trial lesson count as an assessment in the \
recognition procedure?"""),
        Say("kofi", """\
In some countries it can: an aptitude test under the rules on professional qualifications may \
include a practical part. For teachers it is rarely offered because ministries have no budget for \
it, and ESF+ could pay for those tests.""", reply_to=2),
        Say("aissatu", """\
For nurses and midwives the practical assessment in a hospital worked well, but it took eight \
months to find a hospital willing to do it. A **list of hospitals that accept assessments** would \
save months."""),
        Say("eva", """\
In our data women apply for recognition on average much later than men, often once the children \
are at school. By then the gap in their CV is long. **Recognition advice should start in \
reception**, for both partners."""),
        Say("rania", """\
Who pays for translating the documents? Certified translations of a degree and transcripts cost \
€400-600, and women are often the last in the family to get that money."""),
        Say("jonas", """\
In Neuhafen the city's recognition fund covers translations and fees for people on benefits, about \
€600 per person. It is municipal money today; it would be an ideal ESF+ measure.""", reply_to=6),
        Say("raluca", """\
As an interpreter I see skills lost in translation: a job title does not travel, the tasks do. \
Could the skills profile tools list tasks instead of titles?"""),
        Say("hana", """\
Raluca, that is one for the takeaways. Inès, you mentioned a regional validation scheme: how long \
does it take from the first interview to a certificate?"""),
        Say("ines", """\
About four months for a partial qualification, if the person is available for the practical test. \
Most of that time is spent waiting for an assessor who speaks the language or works with an \
interpreter.""", reply_to=9),
        Say("ahmad", """\
Mentors from the same profession help women as much as men, but we have few women mentors. We now \
ask women who went through recognition to mentor others, and we pay them a small fee."""),
    ], takeaways=[
        ("Ask people **what they did every day**, not whether they worked: many women who report no work "
         "experience ran a shop, a farm or a family business.", 1),
        ("Start **recognition advice in reception**, for both partners, so that women do not apply years "
         "later than men.", 5),
        ("Fund **practical assessments** (trial lessons, supervised practice in hospitals), and the "
         "translations and fees of people on low incomes.", None),
        ("Describe **tasks rather than job titles** in skills profiles, and pay women who went through "
         "recognition to mentor others.", 8),
    ]),
    3: RoomScript(window=(34, 78), closed=True, messages=[
        Say("matteo", """\
Welcome to room 3. Ana's pre-event answer is pinned above. Our question: **what makes an employer \
offer a first placement to a woman with little work experience in the EU, and what makes that \
placement lead to a job?**"""),
        Say("ana", """\
For us it was the **mentor colleague**: a named person in the team whom the newcomer can ask \
anything, and who tells us early when something goes wrong. We give the mentor two hours a week \
for it."""),
        Say("gregor", """\
I have been in logistics for twenty years and honestly, these women do not want to work. They \
come for the allowance and disappear.""",
            flag=("youssef", "A generalisation about a whole group of people."),
            hide="Generalisations about a whole group of people break the house rules. Please share a "
                 "concrete experience instead."),
        Say("matteo", """\
I have hidden Gregor's message: generalisations about a group are not allowed here. Gregor, a \
concrete example of what happened would help the room."""),
        Say("gregor", """\
Fair enough. Concretely: of six refugee women who started a placement with us last year, two \
stopped coming in the second week without a word. We never found out why, and it made my \
managers wary."""),
        Say("marco", """\
That is common, and usually solvable: a sick child, a shift that clashes with the school run, no \
bus at five in the morning. A **job coach who calls both sides** in the first weeks catches most \
of it. Did anyone from the employment service follow those two women?""", reply_to=4),
        Say("giulia", """\
In our regional programme ESF+ pays the placement allowance and the insurance, so the employer \
offers only the place and a tutor. Could we add **part-time placements** for mothers without \
losing the employers' interest?"""),
        Say("ana", """\
Yes, for us: hotels run on shifts anyway. A placement from 9 to 14 is easy to organise in \
housekeeping or the kitchen.""", reply_to=6),
        Say("youssef", """\
Placements must be **paid and lead somewhere**. We have seen employers take trainees every season \
and hire none. A simple rule: a company that has hosted three placements without hiring anyone \
gets no more subsidised ones."""),
        Say("lucia", """\
We agree with Youssef. In Costa Verde the employment service now signs a short agreement with each \
employer: a named tutor, the tasks, and a meeting at the end about a contract. Hiring after \
placements rose from about a quarter to almost half."""),
        Say("aisha", """\
Matteo, ten minutes left. Shall I draft the takeaways while you take Marta and Pieter?""",
            backchannel=True),
        Say("matteo", """\
Yes please: mentor colleague and job coach, part-time placements, paid placements with a hiring \
record, and whatever Marta and Pieter add.""", reply_to=10, backchannel=True),
        Say("marta", """\
One more from Portugal: **recruitment days with a women's association**, with childcare on site. \
Employers met candidates they would never have met through the usual channels."""),
        Say("pieter", """\
And information on **labour rights** at the start of every placement, in the person's language. \
Women in care and cleaning are the most exposed to underpayment."""),
    ], takeaways=[
        ("Give each newcomer a **mentor colleague** with paid time for it (about two hours a week), and a "
         "job coach who calls both sides in the first weeks.", 1),
        ("Offer **part-time placements** that fit the school day: the programme pays the allowance and the "
         "insurance, the employer provides the place and a tutor.", 6),
        ("Placements must be **paid and lead somewhere**: a written agreement with a named tutor, and no more "
         "subsidised placements for employers who never hire.", 8),
        ("Organise **recruitment days with women's associations**, with childcare on site, and give "
         "information on labour rights at the start of every placement.", 12),
    ]),
}

ENDED_PLENARY_SCRIPT = RoomScript(window=(1, 110), messages=[
    Say("helena", """\
Welcome to **Pathways to work**, and thank you for joining! Questions to the speakers go in the \
questions panel, where you can also vote for others' questions; comments go here in the chat. \
The most endorsed answer to our pre-event question is pinned above.""", at=1),
    Say("helena", """\
Dr Osei-Bonsu's figures are in the paper linked on the event page. In short: refugee women take \
several years longer than refugee men to find a first job, and the gap is widest for mothers of \
young children.""", at=8),
    Say("niamh", """\
Thank you, Miriam. Is the gap similar for women who came through family reunification rather \
than asylum? In Ireland they are almost invisible in the statistics.""", at=10),
    Say("helena", """\
Miriam's answer: if anything the gap is larger, because family migrants are rarely registered with \
the employment services. She will share a paper with the follow-up mail.""", reply_to=2, at=13),
    Say("tomas", """\
A practical point for managing authorities: childcare can already be an eligible cost of an ESF+ \
operation. The obstacle is usually the national eligibility rules, not the EU regulation.""", at=16),
    Say("marta", """\
Are there programmes that pay a wage during the placement, rather than a small allowance?""", at=18),
    Say("helena", """\
The breakout rooms open in two minutes: the link to your room is on this page. We meet here again \
in 50 minutes for the report-back.""", at=31),
    Say("helena", """\
Welcome back! The takeaways of the three rooms are on the report-back cards. Which of them would \
you take back to your own programme first?""", at=86),
    Say("ahmad", """\
Room 2's point about describing tasks instead of job titles should go into the guidance for the \
EU Skills Profile Tool.""", at=91),
    Say("giulia", """\
From the managing authority's side: we will test part-time placements with childcare costs in our \
next call. Would anyone share the rules of their childcare voucher scheme?""", at=96),
    Say("sofia", """\
Happy to, Giulia: I will send you our voucher rules and the cost per child.""", reply_to=9, at=99),
    Say("helena", """\
Thank you all. The takeaways go to the Advisory Group's recommendations for the mid-term review, \
and the slides and recording will follow by email. The feedback form opens when we close: two \
minutes of your time help us plan the next webinar.""", at=108),
])

# Questions to the speakers: (author, minute asked, text, anonymous, what became of it:
# ("answered", minute) or ("dismissed", minute, reason), or None: still waiting at the end),
# and how likely each present participant is to vote for it.
ENDED_QUESTIONS = [
    ("samira", 7, "Can ESF+ pay for childcare while a mother is on a work placement, not only while she is in a "
                  "course?", False, ("answered", 21), 0.55),
    ("ahmad", 9, "Will the EU Talent Pool help people who already live in the EU to have their skills recognised?",
     False, ("answered", 25), 0.3),
    ("pieter", 11, "Are there examples of employers co-financing language training for women on parental leave?",
     False, None, 0.35),
    ("kwame", 13, "Will the slides and the recording be shared after the webinar?", False, ("answered", 14), 0.1),
    ("eva", 16, "Is there comparable data across member states on the employment of refugee women five years "
                "after arrival?", True, None, 0.2),
    ("zainab", 19, "Can childcare be paid during placements as well as during courses?", False,
     ("dismissed", 20, "The same as an earlier question, which the speakers are answering now."), 0.0),
]

ENDED_POLL_QUESTION = "Which barrier should ESF+ programmes tackle first for migrant and refugee women?"
ENDED_POLL_OPTIONS = [
    ("Childcare and care duties", ""),
    ("Recognition of skills and qualifications", ""),
    ("Language courses that fit around work and family", ""),
    ("Employers' willingness to offer placements", ""),
    ("Reaching women who are not registered with employment services", ""),
]

ENDED_FEEDBACK_QUESTIONS = [
    "What worked well?",
    "What should we change next time?",
    "Which topic should a follow-up webinar take up?",
]
# (who, overall rating, rating of their room or None, answers to the three questions, shows their name)
ENDED_FEEDBACK = [
    ("sofia", 5, 5, ["The room was small enough for everyone to speak, and the pre-event answers gave us a "
                     "flying start.", "", "Funding childcare in rural areas."], True),
    ("tigist", 4, 5, ["Hearing from a childcare provider, not only from projects.", "Longer breakout rooms.", ""],
     False),
    ("olena", 3, 4, ["", "The time slot: most women I work with could not join on a weekday morning.",
                     "Online and evening courses for women who already work."], False),
    ("nadia", 5, 4, ["Very practical, and the speakers answered real questions.", "", ""], False),
    ("fatima", 4, 5, ["The settling-in week idea, which we will try.", "Share the takeaways before the report-back "
                      "so that we can read them.", "Career progression after the first job."], True),
    ("lieve", 4, 4, ["", "Invite more childcare providers.", ""], False),
    ("samira", 5, None, ["My question was answered in the plenary!", "", ""], False),
    ("zainab", 2, 3, ["", "Too many speakers in the plenary and too little time in the rooms. My question was "
                      "removed as a duplicate, which was fair, but it felt abrupt.", "Care for older relatives."],
     False),
    ("eva", 4, 4, ["Good mix of authorities and practitioners.", "Publish the data sources the speakers used.",
                   ""], True),
    ("hanna", 5, 5, ["The guiding questions kept the room focused.", "", "Skills interviews in the person's own "
                     "language."], False),
    ("farah", 4, 3, ["", "The room had three moderators and sometimes they talked more than we did.", ""], False),
    ("raluca", 3, 4, ["", "Provide interpretation: some participants struggled with English.", ""], False),
    ("aissatu", 5, 5, ["Meeting people who work on recognition in other countries.", "", ""], False),
    ("marielaure", 3, 3, ["", "More data, fewer anecdotes.", "Evaluation of what ESF+ measures achieve for "
                          "women."], False),
    ("katarzyna", 4, None, ["", "Invite more employers.", "Employers' role in language training."], False),
    ("giulia", 5, 4, ["Very concrete: I have three ideas for our next call.", "", "How managing authorities can "
                      "simplify small grants."], True),
    ("lucia", 4, 5, ["", "", "Placements that lead to contracts."], False),
    ("youssef", 3, 4, ["", "One message derailed our room for ten minutes; a clearer house rule at the start "
                       "would help.", ""], False),
    ("ana", 4, 4, ["Practical exchange with other employers.", "", ""], True),
    ("pieter", 2, 2, ["", "Trade unions should have been among the speakers.", "Labour rights of migrant "
                      "women in care and cleaning."], False),
    ("marco", 5, 5, ["Molto concreto, e ben moderato.", "", "L'accompagnamento dopo l'assunzione."], False),
]


@dataclass
class OtherEventLogins:
    title: str
    event_id: int
    participant: tuple[str, str]  # (name, email) of a participant to try it as
    note: str                     # what they can try there


def _ended_event(organiser: User, people: dict[str, User], now: datetime) -> OtherEventLogins:
    rng = random.Random(SEED + 8)
    starts_at = _local_start(now - timedelta(days=21), 10, step=-1)
    ends_at = starts_at + timedelta(minutes=120)
    announced_at = starts_at - timedelta(days=35)
    for person in ENDED_NEWCOMERS:
        people[person.key] = _register(person, PARTICIPANT_PASSWORD)
    by_room = {position: (present, absent) for position, (_data, _mods, present, absent)
               in enumerate(ENDED_ROOMS, start=1)}
    for _data, moderator_keys, _present, _absent in ENDED_ROOMS:
        for key in moderator_keys:  # the live event's co-moderators, who had accounts already then
            people[key].created_at = min(people[key].created_at, announced_at - timedelta(days=rng.uniform(5, 60)))

    with clock_at(announced_at):
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=ENDED_TITLE, starts_at=starts_at, ends_at=ends_at, description=ENDED_DESCRIPTION,
            agenda=_agenda(starts_at, ENDED_AGENDA), timezone="Europe/Brussels",
            assignment_mode=AssignmentMode.SELF_SELECT.value))
        event.speakers = ENDED_SPEAKERS
        for data, moderator_keys, _present, _absent in ENDED_ROOMS:
            room = event_setup.add_room(organiser, event, data)
            for key in moderator_keys:
                event_setup.appoint_moderator(organiser, room, people[key].email)
        feedback.save_form(organiser, event, questions=ENDED_FEEDBACK_QUESTIONS, rate_room=True)
        event_setup.publish_event(organiser, event)
        db.session.flush()
    plenary, breakout = event.plenary, {room.position: room for room in event.breakout_rooms}

    # Registration over the month before, each choosing their room within minutes.
    timeline = _Timeline(now)
    room_of, registered_at, placed_at = {}, {}, {}
    for position, (present, absent) in by_room.items():
        for key in present + absent:
            user = people[key]
            room_of[user.id] = position
            registered_at[user.id] = starts_at - timedelta(days=rng.uniform(2.5, 32), hours=rng.uniform(0, 10))
            placed_at[user.id] = registered_at[user.id] + timedelta(minutes=rng.uniform(1, 20))
            # Nobody registers before having an account.
            user.created_at = min(user.created_at, registered_at[user.id] - timedelta(days=rng.uniform(1, 90)))
            timeline.at(registered_at[user.id], lambda user=user: _register_for(user, event))
            timeline.at(placed_at[user.id],
                        lambda user=user, room=breakout[position]: event_setup.choose_room(user, room))
    answers = _preevent_input(timeline, organiser, event, ENDED_PREEVENT, people, registered_at, room_of, placed_at,
                              deadline=starts_at - timedelta(minutes=30), rng=rng,
                              created_at=announced_at + timedelta(minutes=20))
    _reminders(timeline, starts_at)

    # The webinar. People come in during the first minutes (a few late, straight into their room).
    at = lambda minutes: starts_at + timedelta(minutes=minutes)  # noqa: E731
    timeline.at(starts_at, lambda: rooms.set_phase(organiser, plenary, "open"))
    on_time = []
    for position, (present, _absent) in by_room.items():
        for key in present:
            user = people[key]
            if key in ENDED_LATE:
                timeline.at(at(ENDED_LATE[key]), lambda user=user, room=breakout[position]:
                            rooms.record_attendance(user, room, utcnow()))
            else:
                on_time.append(user)
                timeline.at(starts_at + timedelta(seconds=rng.uniform(20, 170)),
                            lambda user=user: rooms.record_attendance(user, plenary, utcnow()))
    for position, key in ENDED_PINS:
        room = plenary if position == 0 else breakout[position]
        lead = organiser if position == 0 else room.moderators[0].user
        # At the start of the plenary; as a room opens (a minute before its first message).
        moment = at(2.5) if position == 0 else at(ENDED_ROOM_SCRIPTS[position].window[0] - 1) + timedelta(
            seconds=7 * position + 30)
        timeline.at(moment, lambda lead=lead, room=room, position=position, key=key:
                    preevent.pin(lead, room, answers[position, key]))
    for position, room in breakout.items():
        present = [people[key] for key in by_room[position][0]]
        _run_room(timeline, room, room.moderators[0].user, ENDED_ROOM_SCRIPTS[position], people, present, starts_at)
    _run_room(timeline, plenary, organiser, ENDED_PLENARY_SCRIPT, people, on_time, starts_at)
    _ended_questions(timeline, organiser, plenary, people, on_time, starts_at, rng)
    _ended_poll(timeline, organiser, plenary, on_time, starts_at, rng)

    # The organiser ends it; its members are told the feedback form is open (by the job
    # end_event queues, run here at that moment), and 21 answer it over the next days.
    timeline.at(at(122), lambda: event_setup.end_event(organiser, event))
    timeline.at(at(123), lambda: notifications.deliver_feedback_open(event.id, organiser.id))
    for key, overall, room_rating, comments, named in ENDED_FEEDBACK:
        timeline.at(ends_at + timedelta(hours=rng.uniform(0.1, 120)), lambda key=key, overall=overall,
                    room_rating=room_rating, comments=comments, named=named: feedback.answer(
                        people[key], event, overall=overall, room_rating=room_rating, comments=comments,
                        show_name=named))
    timeline.run()
    _tidy_notices(event, {people[key].id for key, *_rest in ENDED_FEEDBACK})
    amina = people["amina"]
    return OtherEventLogins(ENDED_TITLE, event.id, (amina.display_name, amina.email),
                            "came, wrote in room 1, has not given feedback yet")


def _ended_questions(timeline: _Timeline, organiser: User, plenary: Room, people: dict[str, User],
                     present: list[User], starts_at: datetime, rng: random.Random) -> None:
    made: dict[int, Question] = {}
    for i, (key, minute, body, anonymous, outcome, chance) in enumerate(ENDED_QUESTIONS):
        asked_at = starts_at + timedelta(minutes=minute, seconds=rng.uniform(0, 50))
        timeline.at(asked_at, lambda i=i, key=key, body=body, anonymous=anonymous: made.__setitem__(
            i, questions.ask(people[key], plenary, body, anonymous=anonymous)))
        voted_until = starts_at + timedelta(minutes=outcome[1] if outcome else 30)
        for voter in present:
            if voter is people[key] or rng.random() >= chance:
                continue
            moment = asked_at + (voted_until - asked_at) * rng.uniform(0.05, 0.95)
            timeline.at(moment, lambda voter=voter, i=i: questions.vote(voter, made[i]))
        if outcome and outcome[0] == "answered":
            timeline.at(voted_until, lambda i=i: questions.mark_answered(organiser, made[i]))
        elif outcome:
            timeline.at(voted_until, lambda i=i, reason=outcome[2]: questions.dismiss(organiser, made[i], reason))


def _ended_poll(timeline: _Timeline, organiser: User, plenary: Room, present: list[User], starts_at: datetime,
                rng: random.Random) -> None:
    """A quick poll before the rooms: open for six minutes, results shown live, then closed."""
    asked_at = starts_at + timedelta(minutes=24, seconds=5)
    votes = []
    for voter in present:
        if rng.random() < 0.25:
            continue
        pick = rng.choices(range(len(ENDED_POLL_OPTIONS)), weights=(5, 3, 2, 3, 2))[0]
        votes.append((asked_at + timedelta(seconds=rng.uniform(15, 330)), voter, pick))
    made = _scripted_poll(timeline, organiser, plenary, ENDED_POLL_QUESTION, ENDED_POLL_OPTIONS, asked_at, votes)
    timeline.at(asked_at + timedelta(minutes=6), lambda: polls.close_poll(organiser, made[0]))


# --- An upcoming event ---------------------------------------------------------------------
#
# Published, in about ten days: its pre-event questions are open, and a few of the people who
# registered have answered them and endorsed each other's answers. Amina has not registered:
# log in as her, register (the balanced assignment places her at once) and answer.

UPCOMING_TITLE = "Beyond the first job: upskilling and career progression for migrant workers"

UPCOMING_DESCRIPTION = """\
A first job is not the end of integration. Many migrants and refugees stay for years in the jobs
they took on arrival, below their skills and with little training. This webinar asks how ESF+
measures can support **progression at work**: training during paid working time, recognition of
what people learn on the job, and the part employers and trade unions play.

Two breakout rooms follow the opening inputs:

1. **Training during working hours**
2. **Progression in care and health jobs**

Please answer the pre-event questions once you have registered: the co-moderators will bring your
answers into the rooms.
"""

UPCOMING_SPEAKERS = """\
Helena Marquardt (chair), European Network for Inclusive Cohesion Policy
Dr Anja Kovač, Skills policy analyst, European Observatory on Adult Learning
Bram Willems, HR director, Westerdam Care Group
Nora Haddad, Founder, Career Bridges Network
"""

UPCOMING_AGENDA = [
    (0, "Welcome"),
    (10, "Inputs: what keeps migrant workers in entry-level jobs, and what helps them move on"),
    (35, "Breakout rooms (45 minutes)"),
    (85, "Report-back and discussion"),
    (110, "Next steps and close"),
    (120, "End"),
]

UPCOMING_ROOMS = [
    (event_setup.RoomInput(
        "Training during working hours",
        "Paid training leave, courses at the workplace, sectoral training funds, and how small firms can "
        "release staff for training.", capacity=20),
     ["ingrid", "dimitris"]),
    (event_setup.RoomInput(
        "Progression in care and health jobs",
        "From care assistant to qualified nurse: recognition of foreign diplomas, adaptation periods, and "
        "courses that fit around shifts.", capacity=20),
     ["selin", "kofi"]),
]

# Who has registered so far (days ago), placed in a room as they register.
UPCOMING_REGISTERED = [("pieter", 9), ("katarzyna", 8.2), ("eva", 7.5), ("barbara", 6.1), ("marco", 5.3),
                       ("tomas", 4.4), ("ruud", 3.6), ("stefan", 2.8), ("nikos", 1.9), ("aissatu", 0.9)]

# The rooms' answers go to the first people placed in each room, whoever they are: they are
# written so that anyone could have given them.
UPCOMING_PREEVENT = [
    Ask("priorities", "Which support would help migrant workers most to move on from their first job?", None, [
        ("pieter", "Training leave that employers cannot refuse, paid from a sectoral fund, with the language "
                   "course counted as training.", 3),
        ("katarzyna", "Short modular courses that lead to a recognised certificate, so that the worker can show "
                      "the next employer what they learnt.", 4),
        ("eva", "Career guidance after the first year in work. Most programmes stop counselling on the day the "
                "person signs a contract.", 2),
    ]),
    Ask("discuss", "What would you like to ask the speakers?", None, [
        ("marco", "How can a social cooperative pay for a job coach for people who already have a contract?", 2),
        ("tomas", "Which indicators would show progression at work, and not just employment?", 1),
    ]),
    Ask("experience", "Have you seen training during paid working time work? What made it possible?", 1, [
        ("", "Yes: two hours a week at the workplace, paid as working time. It worked because the supervisor "
             "joined the first lessons and the regional programme paid the teacher.", 2),
        ("", "A training fund paid into by every employer of the sector covers the wages of staff in training. "
             "Without it, small firms cannot release anyone.", 1),
    ]),
    Ask("discuss", "What keeps care workers with foreign qualifications in assistant jobs?", 2, [
        ("", "Recognition of a nursing diploma takes more than a year, and the adaptation period is unpaid. "
             "People cannot afford it.", 2),
        ("", "Shifts: the courses that lead to a nursing qualification run in the daytime, when assistants are "
             "on the ward.", 1),
    ]),
]


def _upcoming_event(organiser: User, people: dict[str, User], now: datetime) -> OtherEventLogins:
    rng = random.Random(SEED + 9)
    starts_at = _local_start(now + timedelta(days=10), 14, step=1)
    announced_at = now - timedelta(days=12, hours=3)
    with clock_at(announced_at):
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=UPCOMING_TITLE, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=120),
            description=UPCOMING_DESCRIPTION, agenda=_agenda(starts_at, UPCOMING_AGENDA),
            timezone="Europe/Brussels", assignment_mode=AssignmentMode.BALANCED.value))
        event.speakers = UPCOMING_SPEAKERS
        for data, moderator_keys in UPCOMING_ROOMS:
            room = event_setup.add_room(organiser, event, data)
            for key in moderator_keys:
                event_setup.appoint_moderator(organiser, room, people[key].email)
        event_setup.publish_event(organiser, event)
        db.session.flush()
    positions = {room.id: room.position for room in event.breakout_rooms}

    registered_at, room_of = {}, {}
    for key, days in UPCOMING_REGISTERED:
        user = people[key]
        registered_at[user.id] = now - timedelta(days=days, minutes=rng.uniform(0, 300))
        with clock_at(registered_at[user.id]):
            member = _register_for(user, event)  # placed at once (a balanced event)
            db.session.flush()
        room_of[user.id] = positions[member.room_id]
    # The rooms' answers, to the first people placed in each room.
    in_room = {position: [key for key, _days in UPCOMING_REGISTERED if room_of[people[key].id] == position]
               for position in positions.values()}
    asks = [Ask(ask.kind, ask.label, ask.room,
                [(key or in_room[ask.room][i], body, n) for i, (key, body, n) in enumerate(ask.answers)])
            for ask in UPCOMING_PREEVENT]
    timeline = _Timeline(now)
    _preevent_input(timeline, organiser, event, asks, people, registered_at, room_of, registered_at,
                    deadline=now - timedelta(minutes=20), rng=rng, created_at=announced_at + timedelta(minutes=15))
    timeline.run()
    amina = people["amina"]
    return OtherEventLogins(UPCOMING_TITLE, event.id, (amina.display_name, amina.email),
                            "not registered yet: register, then answer the pre-event questions")


# --- The statements board of the open consultation -----------------------------------------
# Three planted opinion groups: (A) employers and business, who want speed and flexibility;
# (B) NGOs, unions and migrant-led organisations, who put rights and quality first; (C) public
# authorities and researchers, who care about administration and evidence. Each statement has
# the chance that a member of each group agrees (the rest mostly disagree, some pass).

BOARD_PROMPT = "What should EU-funded employment support for migrants and refugees do differently?"
BOARD_VOTERS = 300
BOARD_STATEMENTS = [
    # text, P(agree) in groups A, B, C
    ("Language courses should be combined with paid work from the first month.", 0.9, 0.35, 0.2),
    ("Nobody should be pushed into a job below their qualifications.", 0.2, 0.95, 0.55),
    ("Recognition of qualifications should take no more than three months.", 0.9, 0.9, 0.85),
    ("Employers who hire refugees should receive a wage subsidy for a year.", 0.95, 0.4, 0.5),
    ("Migrant-led organisations should be able to apply for ESF+ funding directly.", 0.3, 0.95, 0.15),
    ("Every funded project should report how many participants are in work after 12 months.", 0.85, 0.3, 0.95),
    ("Childcare must be part of every integration programme.", 0.5, 0.9, 0.8),
    ("Combining AMIF and ESF+ in one project should be made much simpler.", 0.8, 0.8, 0.9),
    ("Traineeships should always be paid.", 0.15, 0.95, 0.5),
    ("Private job agencies should deliver more of the funded job coaching.", 0.9, 0.1, 0.35),
    ("Funding calls should be co-designed with the organisations that deliver the services.", 0.4, 0.95, 0.6),
    ("Asylum seekers should be allowed to work after three months.", 0.9, 0.85, 0.1),
    ("Skills assessment should start in reception centres.", 0.85, 0.7, 0.85),
    ("Projects should be funded for at least four years, not one or two.", 0.35, 0.9, 0.8),
    ("Reporting requirements for small organisations should be halved.", 0.9, 0.95, 0.2),
    ("Women with no work experience need programmes designed for them.", 0.4, 0.9, 0.75),
    ("Public employment services, not NGOs, should coordinate integration measures.", 0.2, 0.1, 0.9),
    ("Funds should go first to sectors with labour shortages.", 0.95, 0.2, 0.6),
    ("Anti-discrimination training for employers should be funded.", 0.25, 0.9, 0.6),
    ("Digital tools can replace part of the face-to-face counselling.", 0.8, 0.15, 0.9),
    ("Independent evaluations should be published for every programme.", 0.2, 0.25, 0.95),
    ("Mentoring by people who arrived earlier works better than classroom courses.", 0.8, 0.9, 0.15),
    ("Vocational language courses should be taught at the workplace.", 0.95, 0.5, 0.7),
    ("Temporary contracts are an acceptable first step into the labour market.", 0.95, 0.15, 0.55),
    ("Regions should be able to move money between funds without asking Brussels.", 0.15, 0.2, 0.95),
    ("Self-employment and start-ups by migrants deserve dedicated funding.", 0.85, 0.6, 0.15),
    ("Trade unions should sit on the monitoring committees of these funds.", 0.1, 0.9, 0.2),
    ("Data on outcomes should be broken down by gender and country of origin.", 0.2, 0.3, 0.9),
    ("The same rules for recognising qualifications should apply in every EU country.", 0.8, 0.75, 0.7),
    ("Integration support should continue after someone has found a job.", 0.35, 0.9, 0.75),
]
BOARD_GROUPS = [
    # share of the voters, countries, organisation types
    (0.36, ("DE", "NL", "AT", "PL", "CZ", "DK", "IE"), ("employers", "private_company", "employers", "individual")),
    (0.38, ("IT", "ES", "FR", "GR", "PT", "BE", "SE"), ("ngo", "migrant_led", "trade_union", "non_profit")),
    (0.26, ("BE", "FR", "DE", "FI", "HU", "RO", "SI"), ("local_authority", "regional_authority",
                                                        "managing_authority", "research")),
]


def _statements_board(organiser: User, consultation: Consultation, people: dict[str, User], now: datetime) -> None:
    """A statements board with BOARD_STATEMENTS and BOARD_VOTERS fictional voters, whose
    votes hold three opinion groups, and its map, computed here (inline). The voters are
    inserted in bulk (one statement per table): the ORM would take seconds."""
    from sqlalchemy import insert, update

    from forum.models import Statement, StatementVote
    from forum.services import opinion

    rng = random.Random(SEED + 11)
    board = opinion.save_board(organiser, consultation, prompt=BOARD_PROMPT, premoderated=True)
    opinion.set_board_status(organiser, board, "open")
    board.created_at = now - timedelta(days=20)
    authors = [organiser] * 24 + [people[p.key] for p in PARTICIPANTS[3:9]]
    statements = []
    for i, (text, *_chances) in enumerate(BOARD_STATEMENTS):
        author = authors[i % len(authors)]
        statement = Statement(board=board, author=author, text=text, seed=author is organiser,
                              status=opinion.StatementStatus.PUBLISHED,
                              created_at=now - timedelta(days=20 - i * 0.5))
        db.session.add(statement)
        statements.append(statement)
    # One participant's statement waits for the moderators.
    db.session.add(Statement(board=board, author=people[PARTICIPANTS[4].key], status=opinion.StatementStatus.PENDING,
                             text="Employers should get a single contact point for hiring refugees.",
                             created_at=now - timedelta(hours=3)))
    db.session.flush()

    codes = set(accounts.organisation_type_codes())
    password_hash = people[PARTICIPANTS[0].key].password_hash  # fictional voters: never used to log in
    rows, planted = [], []
    for n in range(BOARD_VOTERS):
        group = rng.choices(range(3), weights=[g[0] for g in BOARD_GROUPS])[0]
        _share, countries, types = BOARD_GROUPS[group]
        kind = rng.choice(types)
        rows.append({"email": f"voter{n + 1:03d}@voters.plenary.example", "password_hash": password_hash,
                     "display_name": f"Demo voter {n + 1}", "handle": f"demo.voter{n + 1}", "organisation": "",
                     "organisation_type": kind if kind in codes else "other",
                     "country": rng.choice(countries), "created_at": now - timedelta(days=15)})
        planted.append(group)
    voters = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))

    votes, counts = [], {s.id: [0, 0, 0] for s in statements}
    for user_id, group in zip(voters, planted, strict=True):
        for statement, (_text, *chances) in zip(statements, BOARD_STATEMENTS, strict=True):
            if rng.random() > 0.7:
                continue  # not everyone sees every statement
            roll = rng.random()
            value = 0 if roll < 0.08 else (1 if rng.random() < chances[group] else -1)
            votes.append({"board_id": board.id, "statement_id": statement.id, "user_id": user_id, "value": value,
                          "created_at": now - timedelta(days=rng.uniform(0, 14))})
            counts[statement.id][{1: 0, -1: 1, 0: 2}[value]] += 1
    db.session.execute(insert(StatementVote), votes)
    for statement in statements:
        statement.agree_count, statement.disagree_count, statement.pass_count = counts[statement.id]
    db.session.execute(update(type(board)).where(type(board).id == board.id).values(matrix_version=len(votes)))
    db.session.flush()
    opinion.recompute_map(board.id)


# --- Polls --------------------------------------------------------------------------
# The source consultation closes with "a quick scoring survey on different options": the
# options below come from the main consultation's topics (skills, partnership, monitoring).
# The live plenary runs a quick poll on what the report-back should take up first.

SURVEY_QUESTION = "How useful would each of these options be for the next programming period?"
SURVEY_OPTIONS = [
    ("Faster recognition of qualifications", "Topic 1: funded skills assessment and recognition services"),
    ("Language learning combined with work experience", "Topic 1: integrated language and vocational pathways"),
    ("Small grants schemes for migrant-led organisations", "Topic 2: simpler access for small applicants"),
    ("Simplified cost options and pre-financing", "Topic 2: less reporting, money earlier"),
    ("Migrant-led organisations in monitoring committees", "Topic 2: partnership as a voting seat"),
    ("Follow-up of employment outcomes over two years", "Topic 3: lasting, good-quality employment"),
]
SURVEY_SCALE = {"1": "Not useful", "3": "Somewhat useful", "5": "Very useful"}
# How each kind of organisation tends to rate the options (added to a base of 3).
SURVEY_LEANINGS = {
    "ngo": (1, 0, 1, 1, 1, -1), "migrant_led": (1, 1, 2, 1, 2, -1), "non_profit": (0, 1, 1, 1, 1, 0),
    "local_authority": (1, 1, 0, 1, -1, 1), "regional_authority": (0, 0, -1, 1, -1, 2),
    "managing_authority": (0, 0, -1, 0, -1, 2), "research": (0, 1, 0, -1, 0, 2),
    "employers": (2, 2, -1, 0, -1, 0), "trade_union": (1, 1, 0, 0, 1, 1),
    "national_authority": (0, 0, -1, 1, -1, 2), "private_company": (2, 1, -1, 0, -1, 0),
}
PLENARY_POLL_QUESTION = "Which question should the report-back take up first?"
PLENARY_POLL_OPTIONS = [
    ("Access to funding for small organisations", ""),
    ("Recognition of skills and qualifications", ""),
    ("Services for women and people with little schooling", ""),
    ("Involving migrant-led organisations in decisions", ""),
]


def _demo_polls(organiser: User, people: dict[str, User], main: Consultation, now: datetime) -> None:
    """A score survey in the main consultation, opened ten days ago: most people have answered."""
    rng = random.Random(SEED + 2)
    voters = [people[p.key] for p in PARTICIPANTS + EVENT_PARTICIPANTS]
    with clock_at(now - timedelta(days=10)):
        survey = polls.create_poll(organiser, main, polls.PollInput(
            kind="score", question=SURVEY_QUESTION, scale_min=1, scale_max=5, scale_labels=SURVEY_SCALE,
            description="Rate each option from 1 to 5. The results are shown once you have answered.",
            closes_at=now + timedelta(days=20), results_shown="after_vote"), SURVEY_OPTIONS)
        polls.open_poll(organiser, survey)
        db.session.flush()
    for i, voter in enumerate(voters):
        if rng.random() < 0.15:
            continue  # not everyone answers
        leaning = SURVEY_LEANINGS.get(voter.organisation_type, (0,) * len(SURVEY_OPTIONS))
        choice = {}
        for option, lean in zip(survey.options, leaning, strict=True):
            if rng.random() < 0.1:
                continue  # no view on this one
            choice[str(option.id)] = max(1, min(5, 3 + lean + rng.choice((-1, 0, 0, 1))))
        if not choice:
            continue
        with clock_at(now - timedelta(days=9, hours=-i * 3, minutes=rng.randint(0, 50))):
            polls.cast_vote(voter, survey, choice)
            db.session.flush()


# --- Plenary questions -----------------------------------------------------------------
# Attendees ask the plenary's speakers in the first minutes and upvote each other's
# questions; the organiser marks the most voted one answered during the welcome.

PLENARY_QUESTIONS = [
    "Will the small grants scheme be open to organisations without audited accounts?",
    "How will the report-back reach the monitoring committee?",
    "Can we get the slides of the opening presentation?",
    "Is there funding for childcare during language courses?",
]


def _plenary_questions(timeline: _Timeline, organiser: User, plenary: Room, attendees: list[User],
                       starts_at: datetime) -> None:
    rng = random.Random(SEED + 4)
    made: list = []
    for i, body in enumerate(PLENARY_QUESTIONS):
        author = attendees[(3 * i + 1) % len(attendees)]
        asked_at = starts_at + timedelta(minutes=3 + 2 * i, seconds=11, milliseconds=3)
        timeline.at(asked_at, lambda author=author, body=body, anonymous=(i == 3): made.append(
            questions.ask(author, plenary, body, anonymous=anonymous)))
        for j, voter in enumerate(attendees):
            if voter is author or rng.random() > (0.5, 0.3, 0.15, 0.35)[i]:
                continue
            timeline.at(asked_at + timedelta(seconds=15 + 4 * j, milliseconds=7),
                        lambda voter=voter, i=i: questions.vote(voter, made[i]))
    timeline.at(starts_at + timedelta(minutes=19, seconds=41, milliseconds=9),
                lambda: questions.mark_answered(organiser, made[0]))


def _plenary_poll(timeline: _Timeline, organiser: User, plenary: Room, attendees: list[User],
                  starts_at: datetime) -> None:
    """The organiser asks the plenary a quick question at minute 22; attendees answer within
    minutes (on the event's timeline, so the moderation log stays in the order of events)."""
    rng = random.Random(SEED + 3)
    asked_at = starts_at + timedelta(minutes=22, seconds=3)
    votes = []
    for i, voter in enumerate(attendees):
        if rng.random() < 0.3:
            continue
        pick = rng.choices(range(len(PLENARY_POLL_OPTIONS)), weights=(4, 3, 2, 3))[0]
        votes.append((asked_at + timedelta(seconds=20 + 5 * i, milliseconds=1), voter, pick))
    _scripted_poll(timeline, organiser, plenary, PLENARY_POLL_QUESTION, PLENARY_POLL_OPTIONS, asked_at, votes)


def _scripted_poll(timeline: _Timeline, organiser: User, plenary: Room, question: str, options: list[str],
                   asked_at: datetime, votes: list[tuple[datetime, User, int]]) -> list:
    """A single-choice poll with live results, asked and opened at `asked_at`, each vote (when,
    who, which option) cast at its moment; returns a list that holds the poll once asked."""
    made: list = []

    def ask() -> None:
        poll = polls.create_poll(organiser, plenary, polls.PollInput(
            kind="single", question=question, results_shown="live"), options)
        polls.open_poll(organiser, poll)
        made.append(poll)

    timeline.at(asked_at, ask)
    for moment, voter, pick in votes:
        timeline.at(moment, lambda voter=voter, pick=pick: polls.cast_vote(voter, made[0], [made[0].options[pick].id]))
    return made
