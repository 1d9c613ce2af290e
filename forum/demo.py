"""Demo data for `flask demo`: fictional stakeholders discussing EU funds for the
labour-market integration of migrants and refugees.

Everything goes through the services, as a person using the site would, so the demo only
contains what the rules allow. Nothing here commits: the command does. Timestamps are set
afterwards, relative to now, so the demo always looks like a live consultation. Every
person and organisation below is invented.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from forum.extensions import db
from forum.models import Consultation, Endorsement, Post, User
from forum.models.base import utcnow
from forum.services import accounts, consultations, posts

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
    quote: bool = False         # start the body with posts.quote(parent)
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

def load_demo() -> list[tuple[str, str, str]] | None:
    """Create the demo when the database holds no account yet; return the logins to print.

    Returns None, and writes nothing, when any account exists.
    """
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return None
    rng = random.Random(SEED)
    now = utcnow()

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
    db.session.flush()

    return [
        ("Admin", ADMIN_EMAIL, ADMIN_PASSWORD),
        ("Organiser", ORGANISER_EMAIL, ORGANISER_PASSWORD),
        ("Participant", PARTICIPANTS[2].email, PARTICIPANT_PASSWORD),
        ("Participant", PARTICIPANTS[0].email, PARTICIPANT_PASSWORD),
    ]


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
    return consultation


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
                topic_id=topics[spec.topic].id, on_behalf_of_organisation=spec.on_behalf)
        else:
            parent = item.parent.post
            body = posts.quote(parent) + spec.body if spec.quote else spec.body
            item.post = posts.create_post(author, consultation, body=body, parent=parent)
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
