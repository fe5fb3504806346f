-- Run once by the postgres image when its data volume is new (docker-entrypoint-initdb.d).
-- One database per service, owned by the compose user (POSTGRES_USER). Services that have
-- not been written yet get theirs now so adding one needs no new volume.
CREATE DATABASE identity;
CREATE DATABASE email;
CREATE DATABASE web;
CREATE DATABASE enrollment;
CREATE DATABASE payments;
CREATE DATABASE tutoring;
CREATE DATABASE testimonials;
