"""The operator console's services and read models: sign-in sessions kept server-side, Korean labels,
the live board, a request's page, the intake form as typed on a call, and the operator's actions on a
request. HTTP lives in api/routers/console/; this package calls the offer loop's and intake's public
functions and is imported by nothing in hotline/ except the jobs above it."""
