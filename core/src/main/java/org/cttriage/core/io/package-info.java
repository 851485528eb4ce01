/** Small file helpers shared by the model package loader and the node. */
package org.cttriage.core.io;
