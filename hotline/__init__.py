"""The hotline's domain: one package per capability, layered (each may use only those below it; the order is
checked by import-linter, `.importlinter`, and drawn in docs/architecture.md):

    jobs            the scheduler on top: calls into every other package
    demo            the living demo, the demo day and seed data, simulated providers
    centre_report   the province's monthly report
    console │ applications │ records │ forms     the four platform surfaces' services
    offers          the offer loop, its policy, the bridge to `matching`, inbound replies, cancellation
    aftercare       follow-up cases
    providers       the registry, its schemas and commitments
    requests        intake, the lifecycle state machine, children's ages, read models
    sms             templates, segments, senders and the outbox
    accounts │ places │ privacy    sign-in, the place table, masking/access log/retention
    models          every table (one module per capability)
    core            clock, settings, errors, database, links, phones, shared columns and schema bases

Services never commit: the request (api/) or the job (jobs) boundary does."""
