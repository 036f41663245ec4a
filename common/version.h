/* The release of easd, shown by --version of every program. debian/changelog
 * carries the same number (the package test compares them). */
#ifndef EASD_VERSION_H
#define EASD_VERSION_H

#define EASD_VERSION "0.9.0"

#endif
