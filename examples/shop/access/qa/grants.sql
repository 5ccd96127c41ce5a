--
-- PostgreSQL database dump (pg_dump --schema-only shop), access statements kept in
-- migrations/V42__grants.sql
--

SET statement_timeout = 0;
SET lock_timeout = 0;

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    total numeric(12,2) NOT NULL
);

ALTER TABLE public.orders OWNER TO postgres;

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    action text NOT NULL
);

ALTER TABLE public.audit_log OWNER TO postgres;

REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO shop_app_qa;
GRANT USAGE ON SCHEMA public TO reporting_qa;

GRANT SELECT,INSERT,UPDATE ON TABLE public.orders TO shop_app_qa;
GRANT SELECT ON TABLE public.orders TO reporting_qa;
GRANT INSERT ON TABLE public.audit_log TO shop_app_qa;
-- QA's cleanup job deletes test orders with the app's role.
GRANT DELETE ON TABLE public.orders TO shop_app_qa;
