--
-- PostgreSQL database cluster dump (pg_dumpall --roles-only), shop qa
--

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE ROLE shop_app_qa;
ALTER ROLE shop_app_qa WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:c2hvcC0kZW52LXNhbHQ=$bm90LWEtcmVhbC1oYXNoLWJ1dC1hLWNhbmFyeQ==:Y2FuYXJ5LXNlcnZlci1rZXk=';
CREATE ROLE reporting_qa;
ALTER ROLE reporting_qa WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE analyst_qa;
ALTER ROLE analyst_qa WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;

--
-- Role memberships
--

GRANT reporting_qa TO analyst_qa GRANTED BY postgres;

--
-- PostgreSQL database cluster dump complete
--
