# Carteiro's blocks read straight from its database (SQLite shown; for
# PostgreSQL use the .pgsql.cf files with pgsql: instead).
smtpd_client_restrictions =
    check_client_access sqlite:/etc/postfix/carteiro-client-access.sqlite.cf
smtpd_recipient_restrictions =
    permit_mynetworks,
    reject_unauth_destination,
    check_sasl_access sqlite:/etc/postfix/carteiro-sasl-access.sqlite.cf,
    permit
