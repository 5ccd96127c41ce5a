--
-- PostgreSQL database cluster dump (pg_dumpall --roles-only), shop prod
--

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE ROLE shop_app_prod;
ALTER ROLE shop_app_prod WITH SUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:c2hvcC0kZW52LXNhbHQ=$bm90LWEtcmVhbC1oYXNoLWJ1dC1hLWNhbmFyeQ==:Y2FuYXJ5LXNlcnZlci1rZXk=';
CREATE ROLE reporting_prod;
ALTER ROLE reporting_prod WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE analyst_prod;
ALTER ROLE analyst_prod WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;

--
-- Role memberships
--

GRANT reporting_prod TO analyst_prod GRANTED BY postgres;

--
-- PostgreSQL database cluster dump complete
--
