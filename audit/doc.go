// Package audit measures what unlearning achieved: accuracy on retained,
// forgotten and test samples, membership-inference attacks, reports and plots.
package audit
